"""Write a realistic estates CSV for `flask estates import` (docs/estates-import.md).

    python bench/gen_estates.py 500000 /tmp/estates.csv [--seed 1] [--encoding utf-8-sig]

The file looks like a manufacturer's export: UTF-8 with a BOM, the ten import columns plus an
unknown `remark` column, Chinese names and addresses, some quoted fields with commas and
newlines, some empty optional values. It also holds deliberately bad rows (one per
BAD_EVERY, cycling through the kinds in BAD_ROWS) and codes repeated on the next row (one per
DUPLICATE_EVERY), so an import exercises its error report and its last-wins rule.
Rows are written one at a time (memory does not grow with N) and the same seed gives the same file.
Prints the counts an import of the file should report, as JSON.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys

HEADER = ["code", "name", "province", "city", "district", "address", "lat", "lng", "households", "status",
          "remark"]

# (province, city, city-centre lat, lng, [(district, adcode)])
REGIONS = [
    ("广东省", "深圳市", 22.54, 114.06, [("南山区", "440305"), ("福田区", "440304"), ("龙岗区", "440307"),
                                        ("宝安区", "440306"), ("罗湖区", "440303")]),
    ("广东省", "广州市", 23.13, 113.26, [("天河区", "440106"), ("海珠区", "440105"), ("番禺区", "440113"),
                                        ("白云区", "440111")]),
    ("北京市", "北京市", 39.90, 116.40, [("朝阳区", "110105"), ("海淀区", "110108"), ("丰台区", "110106"),
                                        ("昌平区", "110114")]),
    ("上海市", "上海市", 31.23, 121.47, [("浦东新区", "310115"), ("闵行区", "310112"), ("徐汇区", "310104"),
                                        ("宝山区", "310113")]),
    ("浙江省", "杭州市", 30.27, 120.15, [("西湖区", "330106"), ("余杭区", "330110"), ("滨江区", "330108")]),
    ("江苏省", "南京市", 32.06, 118.80, [("鼓楼区", "320106"), ("江宁区", "320115"), ("建邺区", "320105")]),
    ("四川省", "成都市", 30.57, 104.07, [("武侯区", "510107"), ("锦江区", "510104"), ("高新区", "510109")]),
    ("湖北省", "武汉市", 30.59, 114.31, [("洪山区", "420111"), ("江汉区", "420103"), ("武昌区", "420106")]),
    ("陕西省", "西安市", 34.34, 108.94, [("雁塔区", "610113"), ("未央区", "610112")]),
    ("山东省", "青岛市", 36.07, 120.38, [("市南区", "370202"), ("崂山区", "370212"), ("黄岛区", "370211")]),
]
PREFIXES = ["翠竹", "碧桂园", "万科", "保利", "金地", "龙湖", "阳光", "东方", "锦绣", "幸福", "滨江", "御景",
            "华润", "中海", "绿地", "招商", "世纪", "香榭", "紫荆", "桃源", "丽都", "星河", "春华", "水岸",
            "凤凰", "天悦", "明珠", "翡翠", "金色", "和平", "百合", "枫林", "康乐", "嘉园", "海逸", "云顶"]
SUFFIXES = ["花园", "小区", "苑", "家园", "公寓", "新城", "府", "名邸", "雅居", "山庄", "华庭", "广场"]
PHASES = ["", "", "", "一期", "二期", "三期", "东区", "西区", "南区", "北区"]
ROADS = ["科技", "人民", "建设", "解放", "中山", "滨海", "文化", "学府", "长江", "黄河", "和平", "新华",
         "光明", "朝阳", "迎宾", "振兴", "东风", "青年", "胜利", "红旗"]
ROAD_KINDS = ["路", "大道", "街", "巷"]
REMARKS = ["", "", "", "", "新开盘", "老旧小区改造", "物业：万科物业", "门禁需登记", "地下车库入口在东侧"]

BAD_EVERY = 10_007
DUPLICATE_EVERY = 50_021
QUOTED_NEWLINE_EVERY = 20_011


def _bad(row: list[str], kind: int) -> list[str]:
    """Spoil one row, in one of the ways real exports go wrong."""
    row = list(row)
    kinds = [
        lambda: row.__setitem__(8, "-3"),                      # households negative
        lambda: row.__setitem__(8, "约500户"),                  # households not a number
        lambda: row.__setitem__(6, "31.2.3"),                  # lat not a number
        lambda: row.__setitem__(7, "190.5"),                   # lng out of range
        lambda: row.__setitem__(1, ""),                        # name missing
        lambda: row.__setitem__(9, "closed"),                  # unknown status
        lambda: row.__setitem__(0, ""),                        # code missing
        lambda: row.__setitem__(4, row[4] + "第三街道" * 10),  # district too long
        lambda: row.insert(2, "多出的一列"),                    # an unquoted comma: one field too many
    ]
    kinds[kind % len(kinds)]()
    return row


def generate(n: int, path: str, *, seed: int = 1, encoding: str = "utf-8-sig") -> dict:
    rng = random.Random(seed)
    bad = duplicates = 0
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        previous_code = None
        for i in range(1, n + 1):
            province, city, clat, clng, districts = rng.choice(REGIONS)
            district, adcode = rng.choice(districts)
            code = f"{adcode}{i:08d}"
            if i % DUPLICATE_EVERY == 0 and previous_code:
                code, duplicates = previous_code, duplicates + 1  # the same estate again, corrected
            name = rng.choice(PREFIXES) + rng.choice(SUFFIXES) + rng.choice(PHASES)
            address = f"{district}{rng.choice(ROADS)}{rng.choice(ROAD_KINDS)}{rng.randint(1, 2999)}号"
            if rng.random() < 0.02:
                address += f", {rng.randint(1, 30)}栋"  # a comma: the writer quotes the field
            if i % QUOTED_NEWLINE_EVERY == 0:
                address += "\n（东门）"  # a newline inside a quoted field: one record, two file lines
            if rng.random() < 0.05:
                lat = lng = ""
            else:
                lat = f"{clat + rng.uniform(-0.3, 0.3):.6f}"
                lng = f"{clng + rng.uniform(-0.3, 0.3):.6f}"
            households = "" if rng.random() < 0.01 else str(rng.randint(80, 6000))
            status = "inactive" if rng.random() < 0.03 else "active"
            row = [code, name, province, city, district, address, lat, lng, households, status,
                   rng.choice(REMARKS)]
            if i % BAD_EVERY == 0:
                row = _bad(row, i // BAD_EVERY)
                bad += 1
            else:
                previous_code = code
            writer.writerow(row)
    # A duplicate right after its original lands in the same batch unless the batch ends between them.
    return {"rows": n, "bad_rows": bad, "duplicate_codes": duplicates, "estates": n - bad - duplicates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, help="number of data rows")
    parser.add_argument("path", help="CSV file to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--encoding", default="utf-8-sig", help="utf-8-sig (default, with BOM) or gb18030")
    args = parser.parse_args(argv)
    stats = generate(args.rows, args.path, seed=args.seed, encoding=args.encoding)
    json.dump(stats, sys.stdout, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
