"""The JSON API: one module per resource. Handlers translate HTTP to domain calls and back."""
