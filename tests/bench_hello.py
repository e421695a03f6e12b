"""The benchmark's yardstick: a bare Flask "hello", served by the same gunicorn as the app."""
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
