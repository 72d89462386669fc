"""The xAPI HTTP edge shared by every xAPI resource.

Version negotiation, the error vocabulary and the one exception handler, scope checks,
the base view and the About resource. Resources themselves live in their apps.
"""
