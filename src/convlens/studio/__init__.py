"""`convlens studio`: the local page where a student builds, trains, draws into and looks inside a CNN.

``server.create_app(Studio(...))`` is the ASGI application; ``static/`` holds the page. The API is
a thin edge over the library (see ``server.ROUTES``); nothing here computes CNN arithmetic.
"""
