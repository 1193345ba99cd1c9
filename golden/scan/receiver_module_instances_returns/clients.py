import boto3
import redis
import requests

http = requests.Session()
cache = redis.Redis(host="cache", decode_responses=True)


def get_cache() -> redis.Redis:
    return cache


def make_http() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = "svc/1.0"
    return s


def new_s3():
    return boto3.client("s3")
