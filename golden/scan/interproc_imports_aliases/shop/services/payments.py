import requests

PAY_URL = "https://pay.example.com"


def charge(amount: int) -> dict:
    return requests.post(f"{PAY_URL}/charge", json={"amount": amount}, timeout=10).json()


def refund(charge_id: str) -> dict:
    return requests.post(f"{PAY_URL}/refund", json={"id": charge_id}, timeout=10).json()


def fmt_amount(amount: int) -> str:
    return f"{amount / 100:.2f} EUR"
