"""The HTTP service: Flask app factory, blueprints, auth, moderator pages."""
