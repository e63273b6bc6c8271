

VIEW_MODULES = ("push",)  # WeChat's message push (see core.register_blueprints)
