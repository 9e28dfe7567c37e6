"""The blueprint every page of an institute's administration registers on."""

from flask import Blueprint

bp = Blueprint("institute_admin", __name__)
