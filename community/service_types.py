"""The kinds of service the network performs, shared by every community area that names one
(orders, maintenance plans, care items)."""

SERVICE_TYPES = {"install": "安装", "repair": "维修", "maintenance": "保养", "cleaning": "清洗",
                 "inspection": "检测", "other": "其他"}
