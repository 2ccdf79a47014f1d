"""Seed data for the portal: the plain-language category tiles and the demo county's landmarks.

Plain data with no model imports, so the tiles' data migration can read it too.
"""

# (label, hint, catalogue key): the catalogue's keys are stable across reloads ("gbt:<GB/T
# 47678.5 code>", civicgrid.catalog.services.reference_entries). A key missing from the
# catalogue is skipped when seeding.
DEFAULT_TILES: list[tuple[str, str, str]] = [
    ("路灯不亮", "路灯不亮、闪烁或损坏", "gbt:01037"),
    ("井盖缺失/破损", "井盖丢失、破损、松动", "gbt:01023"),
    ("垃圾堆放", "垃圾露天堆放、没人清运", "gbt:06010"),
    ("垃圾桶满溢", "垃圾桶或垃圾站装满溢出", "gbt:06042"),
    ("道路破损", "路面坑洼、塌陷、破损", "gbt:06013"),
    ("占道经营", "摊贩占用道路、人行道经营", "gbt:09006"),
    ("违章广告", "违规设置的户外广告、招牌", "gbt:07003"),
    ("小广告", "乱贴乱画、野广告", "gbt:07001"),
    ("乱扔垃圾", "路面不洁、乱扔垃圾", "gbt:06012"),
    ("乱堆杂物", "公共区域堆放杂物", "gbt:06036"),
    ("绿化损坏", "树木、草坪、绿化带损坏", "gbt:04013"),
    ("乱停车", "机动车乱停乱放", "gbt:09009"),
]

# Landmarks of the demo county seat (civicgrid.core.demo), as (name, aliases, metres east,
# metres north of the town centre). Illustrative, like the demo's street and grid names.
DEMO_PLACES: list[tuple[str, str, float, float]] = [
    ("崇义县人民医院", "县医院 人民医院", -420.0, 120.0),
    ("崇义中学", "一中 县一中", 380.0, -160.0),
    ("横水农贸市场", "菜市场 农贸市场", -120.0, -220.0),
    ("县政府", "县人民政府 政府大院", 60.0, 260.0),
    ("阳明广场", "广场 中心广场", 0.0, 0.0),
    ("汽车站", "客运站 长途汽车站", 700.0, 80.0),
    ("文峰公园", "公园", 900.0, -120.0),
    ("横水小学", "实验小学", -700.0, -60.0),
]
