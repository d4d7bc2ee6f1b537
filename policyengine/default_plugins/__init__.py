"""The built-in selectors and notifiers: ordinary plugins, registered through the same hooks."""
