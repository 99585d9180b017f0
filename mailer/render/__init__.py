"""A talk rendered: templates and their context, user text, calendars, photos, images."""
