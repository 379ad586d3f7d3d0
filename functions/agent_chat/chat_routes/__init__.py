"""The chat API's routes: one Powertools ``Router`` per resource, each in its own module.

A new resource gets a module here with ``router = Router()`` and its routes, and an entry in ``ROUTERS``;
``chat_app`` includes every router in its resolver, and the route list (``chat_app.routes()``) is read back from
the resolver, so the template check and the tests follow. Each route must also be declared in ``template.yaml``
(API Gateway forwards only the routes declared there).
"""

from __future__ import annotations

from chat_routes import conversations, profile, sessions

ROUTERS = (sessions.router, conversations.router, profile.router)
