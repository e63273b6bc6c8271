"""Ecosystem partners (生态伙伴): organisations, their staff, what they publish and who answered it."""
