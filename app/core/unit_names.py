"""English names of the demo county's units, for `name_en` (the demo loader and the migration
that added the column both fill it from here, so an upgraded demo database and a new one agree)."""

from __future__ import annotations

DEMO_UNIT_NAMES_EN: dict[str, str] = {
    "埇桥区": "Yongqiao District",
    "埇桥街道": "Yongqiao Subdistrict",
    "沱河街道": "Tuohe Subdistrict",
    "道东街道": "Daodong Subdistrict",
    "三里街道": "Sanli Subdistrict",
    "北关街道": "Beiguan Subdistrict",
    "汴河街道": "Bianhe Subdistrict",
    "符离镇": "Fuli Town",
    "大店镇": "Dadian Town",
    "蒿沟镇": "Haogou Town",
    "栏杆镇": "Langan Town",
    "夹沟镇": "Jiagou Town",
    "褚兰镇": "Chulan Town",
    "区应急管理局": "District Emergency Management Bureau",
    "区住房和城乡建设局": "District Housing and Urban-Rural Development Bureau",
    "区交通运输局": "District Transport Bureau",
    "区消防救援大队": "District Fire and Rescue Brigade",
    "区市场监督管理局": "District Market Regulation Administration",
    "区教育局": "District Education Bureau",
    "区卫生健康委员会": "District Health Commission",
    "区文化旅游体育局": "District Culture, Tourism and Sports Bureau",
    "区农业农村局": "District Agriculture and Rural Affairs Bureau",
    "区水利局": "District Water Resources Bureau",
}
