import boto3

BUCKET = "uploads"
s3 = boto3.client("s3", region_name="eu-west-1")
dynamodb = boto3.resource("dynamodb")
users_table = dynamodb.Table("users")
