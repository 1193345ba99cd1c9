import json
import pickle


def load_model(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def load_settings() -> dict:
    with open("settings.json") as f:
        return json.load(f)
