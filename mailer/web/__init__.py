"""The web part (contract §9): ``announce serve``'s WSGI application."""
