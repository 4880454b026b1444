// The API's origin. `make run` serves a generated one; a clinic hosting these files edits it.
window.CLINIC_API = "http://127.0.0.1:8000";
