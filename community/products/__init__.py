"""Product archives (产品档案): the catalogue of product models, their maintenance plans, and what each household owns."""
