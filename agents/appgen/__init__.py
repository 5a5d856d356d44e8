"""The application generator of the built-in full-stack developers.

``design`` turns a user story into an entity with fields (or an accounts story); ``render``
writes a runnable standard-library web application (WSGI + SQLite: accounts, CRUD pages, a JSON
API) and its ``unittest`` suite from the designs of every story so far. Nothing is installed at
run time: the generated application needs only Python 3.11.
"""

from agents.appgen.design import FieldDesign, StoryDesign, design_story
from agents.appgen.render import generate, spec_write, specs_read

__all__ = ["FieldDesign", "StoryDesign", "design_story", "generate", "spec_write", "specs_read"]
