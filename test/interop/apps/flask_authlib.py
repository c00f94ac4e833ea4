"""A relying party built with Flask and Authlib, run as its own process by the interop test.

Settings come from the environment through Flask's own FLASK_ prefix: FLASK_SECRET_KEY, and
FLASK_NOPASS_CLIENT_ID, FLASK_NOPASS_CLIENT_SECRET and FLASK_NOPASS_SERVER_METADATA_URL, which
Authlib reads as the NOPASS_* keys of the app's config. `flask run --host --port` says where it
listens.

  /            the claims the application sees (signs in first)
  /login       starts the sign-in at the bridge
  /callback    where the bridge sends the browser back with the code
  /logout      ends the local session, then the bridge's
  /signed-out  where the bridge sends the browser back after signing out
"""

from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify, redirect, session, url_for

app = Flask(__name__)
app.config.from_prefixed_env()

oauth = OAuth(app)
# Authlib adds a nonce by itself for the openid scope; PKCE only when asked for.
nopass = oauth.register(
    "nopass",
    client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
)


@app.get("/")
def home():
    user = session.get("user")
    if user is None:
        return redirect(url_for("login"))
    return jsonify(user)


@app.get("/login")
def login():
    return nopass.authorize_redirect(url_for("callback", _external=True))


@app.get("/callback")
def callback():
    token = nopass.authorize_access_token()
    # Authlib checked the ID token (signature, issuer, audience, nonce) and kept its claims.
    session["user"] = token["userinfo"]
    session["id_token"] = token["id_token"]
    return redirect(url_for("home"))


@app.get("/logout")
def logout():
    id_token = session.get("id_token")
    session.clear()
    params = {"post_logout_redirect_uri": url_for("signed_out", _external=True)}
    if id_token:
        params["id_token_hint"] = id_token
    end_session = nopass.load_server_metadata()["end_session_endpoint"]
    return redirect(f"{end_session}?{urlencode(params)}")


@app.get("/signed-out")
def signed_out():
    return "Signed out"
