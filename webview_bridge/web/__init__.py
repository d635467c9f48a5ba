"""The pages: one module per screen, one template per screen."""
