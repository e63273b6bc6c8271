"""The estate's own profile (千区千面): tags, and the figures offers and activities are targeted by."""
