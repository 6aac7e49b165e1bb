"""Does an affiliation string place its author in Beijing? Pure functions on text.

``places_beijing(text)`` answers True (in Beijing), False (elsewhere) or None (the text does
not say). A text may hold several affiliations (``affiliation_parts``: one per line or
semicolon); it is in Beijing when one of them is, else elsewhere when one of them is
elsewhere. One affiliation is decided by the first of these that applies:

1. Beijing as a place: a comma-separated component that is "Beijing" (with a postcode,
   "Shi", "City", "China" ...) or "北京市" -> True;
2. a foreign country as a component ("..., Boston, MA, USA") -> False; else a Beijing
   postcode 100000-102999 -> True (Moscow's 101000 comes with "Russia");
3. a Chinese city or province other than Beijing named anywhere ("Shenzhen", "Zhuhai",
   "Weihai", "Shanghai", "Hong Kong", "深圳" ...): a campus or institute elsewhere, even
   when the institution's name says Beijing ("Beijing Normal University, Zhuhai") -> False;
4. a hint of Beijing: "Beijing" or "Peking" inside a name, a Beijing district (Haidian,
   Chaoyang, Huairou ...), Zhongguancun, "北京", or a Chinese Academy of Sciences or Medical
   Sciences institute located in Beijing named as a whole component beside CAS / CAMS
   ("Institute of Automation, Chinese Academy of Sciences") -> True;
5. otherwise None ("Chinese Academy of Sciences" alone says nothing of the place).

Names are matched case-insensitively on word boundaries, so "Shenyang Institute of
Automation" is not the Beijing "Institute of Automation", and "China-Japan Friendship
Hospital" names no foreign country.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Chinese cities and provinces other than Beijing (with Hong Kong, Macao and Taiwan): a
# campus, branch or institute there is not in Beijing. Beijing's own districts are absent.
OUTSIDE_PLACES = (
    "Shanghai", "Tianjin", "Chongqing", "Shenzhen", "Zhuhai", "Weihai", "Qinhuangdao", "Suzhou", "Hangzhou",
    "Nanjing", "Wuhan", "Guangzhou", "Chengdu", "Xi'an", "Xi’an", "Xian", "Hefei", "Dalian", "Changchun", "Shenyang",
    "Lanzhou", "Kunming", "Harbin", "Qingdao", "Xiamen", "Ningbo", "Jinan", "Changsha", "Fuzhou", "Taiyuan",
    "Shijiazhuang", "Zhengzhou", "Nanchang", "Nanning", "Guiyang", "Urumqi", "Hohhot", "Xining", "Yinchuan", "Lhasa",
    "Haikou", "Sanya", "Wuxi", "Changzhou", "Nantong", "Yangzhou", "Xuzhou", "Zhenjiang", "Lianyungang", "Yancheng",
    "Huai'an", "Shaoxing", "Wenzhou", "Jiaxing", "Jinhua", "Huzhou", "Taizhou", "Yantai", "Weifang", "Zibo", "Linyi",
    "Jining", "Tai'an", "Rizhao", "Dongying", "Baoding", "Tangshan", "Langfang", "Zhangjiakou", "Chengde", "Handan",
    "Cangzhou", "Luoyang", "Kaifeng", "Xinxiang", "Yichang", "Xiangyang", "Zhuzhou", "Xiangtan", "Hengyang", "Ganzhou",
    "Guilin", "Liuzhou", "Zunyi", "Mianyang", "Deyang", "Yibin", "Baotou", "Ordos", "Daqing", "Qiqihar", "Anshan",
    "Fushun", "Jinzhou", "Dandong", "Yingkou", "Karamay", "Shihezi", "Kashgar", "Golmud", "Zhanjiang", "Shantou",
    "Foshan", "Dongguan", "Huizhou", "Jiangmen", "Zhaoqing", "Quanzhou", "Zhangzhou", "Wuhu", "Bengbu", "Huainan",
    "Anqing", "Ma'anshan",
    "Guangdong", "Jiangsu", "Zhejiang", "Shandong", "Hebei", "Henan", "Hubei", "Hunan", "Sichuan", "Yunnan", "Guizhou",
    "Shaanxi", "Shanxi", "Gansu", "Qinghai", "Liaoning", "Jilin", "Heilongjiang", "Anhui", "Fujian", "Jiangxi",
    "Hainan", "Guangxi", "Inner Mongolia", "Ningxia", "Xinjiang", "Tibet", "Xizang",
    "Hong Kong", "Kowloon", "Macau", "Macao", "Taiwan", "Taipei", "Hsinchu", "Tainan", "Taichung", "Kaohsiung",
)
OUTSIDE_PLACES_ZH = (
    "上海", "天津", "重庆", "深圳", "珠海", "威海", "秦皇岛", "苏州", "杭州", "南京", "武汉", "广州", "成都", "西安",
    "合肥", "大连", "长春", "沈阳", "兰州", "昆明", "哈尔滨", "青岛", "厦门", "宁波", "济南", "长沙", "福州", "太原",
    "石家庄", "郑州", "南昌", "南宁", "贵阳", "乌鲁木齐", "呼和浩特", "西宁", "银川", "拉萨", "海口", "三亚", "无锡",
    "常州", "东莞", "佛山", "烟台", "保定", "唐山", "廊坊", "香港", "澳门", "台湾", "台北",
    "广东", "江苏", "浙江", "山东", "河北", "河南", "湖北", "湖南", "四川", "云南", "贵州", "陕西", "山西", "甘肃",
    "青海", "辽宁", "吉林", "黑龙江", "安徽", "福建", "江西", "海南", "广西", "内蒙古", "宁夏", "新疆", "西藏",
)
# Beijing's districts and well-known quarters (the Chinese list starts with Beijing itself).
BEIJING_DISTRICTS = (
    "Haidian", "Chaoyang", "Dongcheng", "Xicheng", "Fengtai", "Shijingshan", "Mentougou", "Fangshan", "Tongzhou",
    "Shunyi", "Changping", "Daxing", "Huairou", "Pinggu", "Miyun", "Yanqing", "Zhongguancun", "Yizhuang",
)
BEIJING_HINTS_ZH = (
    "北京", "海淀", "朝阳区", "东城区", "西城区", "丰台", "石景山", "门头沟", "房山", "通州区", "顺义", "昌平", "大兴",
    "怀柔", "平谷", "密云", "延庆", "中关村",
)
# Institutes of the Chinese Academy of Sciences (and of Medical Sciences) located in Beijing,
# as a whole component of a string that also names the academy.
BEIJING_ACADEMY_INSTITUTES = (
    "Institute of Physics", "Institute of Chemistry", "Institute of Automation", "Institute of Computing Technology",
    "Institute of Software", "Institute of High Energy Physics", "Institute of Theoretical Physics",
    "Institute of Semiconductors", "Institute of Mechanics", "Institute of Acoustics", "Institute of Electronics",
    "Institute of Electrical Engineering", "Institute of Engineering Thermophysics", "Institute of Microelectronics",
    "Institute of Information Engineering", "Institute of Process Engineering", "Institute of Zoology",
    "Institute of Botany", "Institute of Microbiology", "Institute of Biophysics", "Institute of Psychology",
    "Institute of Genetics and Developmental Biology", "Institute of Geographic Sciences and Natural Resources Research",
    "Institute of Geology and Geophysics", "Institute of Atmospheric Physics", "Institute of Tibetan Plateau Research",
    "Institute of Vertebrate Paleontology and Paleoanthropology", "Institute of Remote Sensing and Digital Earth",
    "Aerospace Information Research Institute", "Academy of Mathematics and Systems Science",
    "Research Center for Eco-Environmental Sciences", "National Astronomical Observatories",
    "National Space Science Center", "Technical Institute of Physics and Chemistry",
    "National Center for Nanoscience and Technology", "Institutes of Science and Development",
    "Institute of Materia Medica", "Institute of Basic Medical Sciences", "Institute of Medicinal Plant Development",
    "Institute of Medicinal Biotechnology", "Institute of Pathogen Biology", "Institute of Laboratory Animal Sciences",
    "Institute of Medical Information", "Fuwai Hospital", "Peking Union Medical College Hospital",
)
BEIJING_ACADEMY_INSTITUTES_ZH = (
    "物理研究所", "化学研究所", "自动化研究所", "计算技术研究所", "软件研究所", "高能物理研究所", "理论物理研究所",
    "半导体研究所", "力学研究所", "声学研究所", "电工研究所", "工程热物理研究所", "微电子研究所", "信息工程研究所",
    "过程工程研究所", "动物研究所", "植物研究所", "微生物研究所", "生物物理研究所", "心理研究所",
    "遗传与发育生物学研究所", "地理科学与资源研究所", "地质与地球物理研究所", "大气物理研究所", "青藏高原研究所",
    "古脊椎动物与古人类研究所", "空天信息创新研究院", "数学与系统科学研究院", "生态环境研究中心", "国家天文台",
    "国家空间科学中心", "理化技术研究所",
)
FOREIGN_COUNTRIES = (
    "United States", "United States of America", "USA", "U.S.A.", "US", "U.S.", "United Kingdom", "UK", "U.K.",
    "England", "Scotland", "Wales", "Northern Ireland", "Ireland", "Germany", "France", "Italy", "Spain", "Portugal",
    "Netherlands", "The Netherlands", "Belgium", "Switzerland", "Austria", "Sweden", "Norway", "Denmark", "Finland",
    "Iceland", "Poland", "Czech Republic", "Czechia", "Hungary", "Greece", "Turkey", "Türkiye", "Russia",
    "Russian Federation", "Ukraine", "Romania", "Bulgaria", "Serbia", "Croatia", "Slovenia", "Slovakia", "Estonia",
    "Latvia", "Lithuania", "Luxembourg", "Cyprus", "Malta", "Israel", "Iran", "Iraq", "Saudi Arabia",
    "United Arab Emirates", "UAE", "Qatar", "Kuwait", "Oman", "Jordan", "Lebanon", "Egypt", "Morocco", "Tunisia",
    "Algeria", "South Africa", "Nigeria", "Kenya", "Ethiopia", "Ghana", "India", "Pakistan", "Bangladesh",
    "Sri Lanka", "Nepal", "Japan", "Korea", "South Korea", "Republic of Korea", "Korea (South)", "Singapore",
    "Malaysia", "Thailand", "Vietnam", "Viet Nam", "Indonesia", "Philippines", "Australia", "New Zealand", "Canada",
    "Mexico", "Brazil", "Argentina", "Chile", "Colombia", "Peru", "Kazakhstan", "Uzbekistan", "Mongolia",
)

_BEIJING_PLACE_COMPONENT = re.compile(
    r"^(?:beijing|peking)(?: (?:shi|city|municipality|china|p ?r ?china|prc|people s republic of china))?$"
)
_BEIJING_POSTCODE = re.compile(r"(?<![\d-])10[0-2]\d{3}(?![\d-])")
_ACADEMY = re.compile(
    r"\b(?:CAS|CAMS|PUMC)\b|(?i:Chinese Academy of (?:Medical )?Sciences|Peking Union Medical College)"
)
_PART_SEPARATORS = re.compile(r"[\n\r;；]+|#TAB#")
_COMPONENT_SEPARATORS = re.compile(r"[,，、]")


def _words(names) -> re.Pattern:
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’])(?:{alternatives})(?![\w'’])", re.IGNORECASE)


_OUTSIDE = _words(OUTSIDE_PLACES)
_BEIJING_HINT = _words(("Beijing", "Peking", *BEIJING_DISTRICTS))
_OUTSIDE_ZH = re.compile("|".join(OUTSIDE_PLACES_ZH))
_BEIJING_HINT_ZH = re.compile("|".join(BEIJING_HINTS_ZH))
_ACADEMY_INSTITUTE_ZH = re.compile(rf"中国(?:科学院|医学科学院)(?:{'|'.join(BEIJING_ACADEMY_INSTITUTES_ZH)})")


def _component_key(text: str) -> str:
    """A component compared by its letters: lower case, digits, punctuation and a leading
    "the" dropped, spaces collapsed ("  Beijing 100084 " -> "beijing")."""
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    text = re.sub(r"[^\w]+|\d+|_", " ", text)
    text = re.sub(r"^the ", "", " ".join(text.split()))
    return text


_FOREIGN_KEYS = frozenset(_component_key(name) for name in FOREIGN_COUNTRIES)
_INSTITUTE_KEYS = frozenset(_component_key(name) for name in BEIJING_ACADEMY_INSTITUTES)


@lru_cache(maxsize=65536)
def affiliation_parts(text: str | None) -> tuple[str, ...]:
    """The affiliations of one raw string: one per line or semicolon, stripped, empty ones left out."""
    if not text:
        return ()
    return tuple(part.strip() for part in _PART_SEPARATORS.split(text) if part.strip())


@lru_cache(maxsize=65536)
def places_beijing(text: str | None) -> bool | None:
    """True when the affiliation text places its author in Beijing, False when elsewhere,
    None when it does not say (module docstring). Several affiliations: in Beijing when
    one is, else elsewhere when one is."""
    verdicts = [place_of_affiliation(part) for part in affiliation_parts(text)]
    if True in verdicts:
        return True
    if False in verdicts:
        return False
    return None


def place_of_affiliation(part: str) -> bool | None:
    """The verdict of ``places_beijing`` for one affiliation (no line breaks or semicolons)."""
    components = [_component_key(component) for component in _COMPONENT_SEPARATORS.split(part)]
    if any(_BEIJING_PLACE_COMPONENT.match(key) for key in components) or "北京市" in part:
        return True
    if any(key in _FOREIGN_KEYS for key in components):
        return False
    if _BEIJING_POSTCODE.search(part):
        return True
    if _OUTSIDE.search(part) or _OUTSIDE_ZH.search(part):
        return False
    if _BEIJING_HINT.search(part) or _BEIJING_HINT_ZH.search(part) or _ACADEMY_INSTITUTE_ZH.search(part):
        return True
    if _ACADEMY.search(part) and any(key in _INSTITUTE_KEYS for key in components):
        return True
    return None
