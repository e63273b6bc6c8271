"""The demo's product catalogue, maintenance plans and appliances in the demo households: twelve
models over five categories, the plans a manufacturer's service department would run, and
appliances installed from a few weeks to four years ago, so some care is due, some overdue."""
from __future__ import annotations

import random
from datetime import timedelta

from community.products import services as products
from core.accounts.models import User

MODELS = [
    # code, name, category, warranty months
    ("RO-600G", "反渗透净水器 RO-600G", "water_purifier", 24),
    ("RO-400", "厨下反渗透净水器 RO-400", "water_purifier", 24),
    ("UF-2000", "超滤净水器 UF-2000", "water_purifier", 12),
    ("KFR-35GW/BP", "变频挂式空调 KFR-35GW/BP", "air_conditioner", 72),
    ("KFR-72LW/BP", "变频柜式空调 KFR-72LW/BP", "air_conditioner", 72),
    ("JSQ25-13", "燃气热水器 JSQ25-13", "water_heater", 36),
    ("F60-D", "储水式电热水器 F60-D", "water_heater", 36),
    ("CXW-220-A1", "侧吸式油烟机 CXW-220-A1", "range_hood", 60),
    ("CXW-260-T2", "顶吸式油烟机 CXW-260-T2", "range_hood", 60),
    ("L1PB24-G", "冷凝式燃气壁挂炉 L1PB24-G", "wall_boiler", 24),
    ("L1PB32-H", "燃气壁挂炉 L1PB32-H", "wall_boiler", 24),
    ("XF-250", "全热交换新风机 XF-250", "fresh_air", 24),
]

# name, category or model code, service type, first due days, interval months, after completion,
# season (start, end) or None, lead days, what the household is told
PLANS = [
    ("PP棉与活性炭滤芯更换", "water_purifier", "maintenance", 180, 6, True, None, 14,
     "PP 棉与前置活性炭滤芯建议每 6 个月更换一次，保证出水口感与 RO 膜寿命。"),
    ("复合滤芯更换", "RO-600G", "maintenance", 365, 12, True, None, 14,
     "RO-600G 采用复合滤芯，每 12 个月更换一次（替代品类的 6 个月滤芯计划）。"),
    ("RO膜更换", "RO-600G", "other", 730, 24, True, None, 21,
     "反渗透膜一般 24 个月更换，水质较硬的地区可能需要提前。"),
    ("RO膜更换", "RO-400", "other", 730, 24, True, None, 21,
     "反渗透膜一般 24 个月更换，水质较硬的地区可能需要提前。"),
    ("空调年度清洗", "air_conditioner", "cleaning", 300, 12, False, (4, 6), 21,
     "入夏前深度清洗蒸发器与滤网，制冷更快、更省电。每年 4–6 月安排。"),
    ("阳极棒检查与除垢", "water_heater", "maintenance", 365, 12, True, None, 14,
     "检查镁棒损耗并清除内胆水垢，延长热水器寿命。"),
    ("油烟机深度清洗", "range_hood", "cleaning", 180, 6, True, None, 10,
     "拆洗油网、风轮与油杯，恢复吸力、降低噪音。"),
    ("入冬前保养", "wall_boiler", "maintenance", 60, 12, False, (9, 11), 21,
     "供暖季前检查燃烧、水压与烟道，清洗换热器。每年 9–11 月安排。"),
    ("新风滤网更换", "fresh_air", "maintenance", 120, 6, True, None, 14,
     "初效与高效滤网每 6 个月更换，雾霾季节可能需要提前。"),
    *(("安装后回访检测", category, "inspection", 30, None, True, None, 7,
       "安装一个月后上门回访，检查安装与使用情况。")
      for category in ("water_purifier", "air_conditioner", "water_heater", "range_hood", "wall_boiler", "fresh_air")),
]


def seed_products(rng: random.Random, engineers, residents, admin: User) -> None:
    """The catalogue and its plans, one to three appliances per demo household (installed by their
    steward or registered by themselves), some services already done, and one serial conflict
    waiting in the agents' queue."""
    models = {code: products.create_product_model(
        {"code": code, "name": name, "category": category, "warranty_months": months}, admin)
        for code, name, category, months in MODELS}
    for name, target, service_type, first, interval, from_done, season, lead, text in PLANS:
        model = models.get(target)
        products.create_plan({
            "name": name, "category": None if model else target, "product_model_id": model.id if model else None,
            "service_type": service_type, "first_due_days": first, "interval_months": interval,
            "after_completion": from_done, "season_start_month": season[0] if season else None,
            "season_end_month": season[1] if season else None, "lead_days": lead, "description": text}, admin)
    today = products.today()
    stewards = {e.id: e for e in engineers}
    codes = list(models)
    registered = []
    for n, (resident, estate_id) in enumerate(residents):
        # the DevTools resident (the first) owns a purifier overdue for its filters and an AC
        picks = ["RO-400", "KFR-35GW/BP"] if n == 0 else rng.sample(codes, rng.randint(1, 3))
        for k, code in enumerate(picks):
            installed = today - timedelta(days=400 if n == 0 and k == 0 else rng.randint(20, 1500))
            engineer = stewards.get(rng.choice(list(stewards))) if rng.random() < 0.6 else None
            data = {"model_code": code, "serial": f"{code.split('/')[0].replace('-', '')}{rng.randint(10**7, 10**8 - 1)}",
                    "install_date": installed, "purchase_date": installed - timedelta(days=rng.randint(0, 10)),
                    "estate_id": estate_id, "address": f"{rng.randint(1, 20)}栋 {rng.randint(1, 32)}{rng.randint(1, 4):02d}",
                    "installer_id": engineer.id if engineer else None}
            outcome = products.register_product(data, engineer.user if engineer else resident, owner=resident,
                                                source="engineer" if engineer else "resident")
            registered.append((outcome.product, installed))
    # some households had their last service a while ago: their schedules count from it
    for product, installed in registered[1::3]:
        done = min(today - timedelta(days=rng.randint(30, 200)), today)
        if done > installed:
            products.record_service(product.id, "maintenance", done)
            products.record_service(product.id, "cleaning", done)
    # a second household claims a serial on record: an agent checks it
    claimant = residents[-1][0]
    taken = registered[0][0]
    products.register_product({"model_id": taken.model_id, "serial": taken.serial, "address": "12栋 602"}, claimant,
                              owner=claimant, source="resident")
