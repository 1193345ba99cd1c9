def audit(event: str) -> None:
    with open("/var/log/audit.log", "a") as f:
        f.write(event + "\n")
