"""The server's endpoint groups, one ``APIRouter`` each; routes take the service from ``app.state``."""
