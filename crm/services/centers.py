"""Centers of excellence: the hospital's default list and look-ups."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Center

#: The hospital's centers, named in every UI language. Admins edit them afterwards.
DEFAULT_CENTERS = [
    ("cardiology", {"en": "Cardiology and Cardiac Surgery", "es": "Cardiología y Cirugía Cardíaca",
                    "ar": "أمراض القلب وجراحة القلب", "zh_Hans": "心脏内科与心脏外科",
                    "pt_BR": "Cardiologia e Cirurgia Cardíaca", "ru": "Кардиология и кардиохирургия",
                    "fr": "Cardiologie et chirurgie cardiaque"}),
    ("digestive_health", {"en": "Digestive Health", "es": "Salud Digestiva",
                          "ar": "صحة الجهاز الهضمي", "zh_Hans": "消化健康中心",
                          "pt_BR": "Saúde Digestiva", "ru": "Заболевания органов пищеварения",
                          "fr": "Santé digestive"}),
    ("neurology", {"en": "Neurology and Neurosurgery", "es": "Neurología y Neurocirugía",
                   "ar": "طب الأعصاب وجراحة الأعصاب", "zh_Hans": "神经内科与神经外科",
                   "pt_BR": "Neurologia e Neurocirurgia", "ru": "Неврология и нейрохирургия",
                   "fr": "Neurologie et neurochirurgie"}),
    ("cancer", {"en": "Cancer Center", "es": "Centro de Cáncer", "ar": "مركز السرطان",
                "zh_Hans": "癌症中心", "pt_BR": "Centro de Câncer", "ru": "Онкологический центр",
                "fr": "Centre de cancérologie"}),
    ("orthopaedics", {"en": "Orthopaedics", "es": "Ortopedia", "ar": "جراحة العظام",
                      "zh_Hans": "骨科", "pt_BR": "Ortopedia", "ru": "Ортопедия",
                      "fr": "Orthopédie"}),
    ("transplant", {"en": "Transplant Center", "es": "Centro de Trasplantes", "ar": "مركز زراعة الأعضاء",
                    "zh_Hans": "器官移植中心", "pt_BR": "Centro de Transplantes",
                    "ru": "Центр трансплантации", "fr": "Centre de transplantation"}),
    ("pediatrics", {"en": "Pediatrics", "es": "Pediatría", "ar": "طب الأطفال", "zh_Hans": "儿科",
                    "pt_BR": "Pediatria", "ru": "Педиатрия", "fr": "Pédiatrie"}),
    ("urology_kidney", {"en": "Urology and Kidney Diseases", "es": "Urología y Enfermedades Renales",
                        "ar": "المسالك البولية وأمراض الكلى", "zh_Hans": "泌尿外科与肾脏病",
                        "pt_BR": "Urologia e Doenças Renais", "ru": "Урология и болезни почек",
                        "fr": "Urologie et maladies rénales"}),
    ("womens_health", {"en": "Women's Health", "es": "Salud de la Mujer", "ar": "صحة المرأة",
                       "zh_Hans": "女性健康", "pt_BR": "Saúde da Mulher", "ru": "Здоровье женщин",
                       "fr": "Santé des femmes"}),
    ("endocrinology", {"en": "Endocrinology, Diabetes and Metabolism",
                       "es": "Endocrinología, Diabetes y Metabolismo",
                       "ar": "الغدد الصماء والسكري والأيض", "zh_Hans": "内分泌、糖尿病与代谢",
                       "pt_BR": "Endocrinologia, Diabetes e Metabolismo",
                       "ru": "Эндокринология, диабет и обмен веществ",
                       "fr": "Endocrinologie, diabète et métabolisme"}),
]


def ensure_default_centers() -> list[Center]:
    """Create the default centers that do not exist yet (by key), with their routing keywords;
    never renames nor changes a center that exists (an admin may have emptied its keywords on
    purpose: ``crm db upgrade`` runs this every time). Flushes."""
    from .routing_data import CENTER_KEYWORDS
    existing = {c.key: c for c in db.session.scalars(select(Center))}
    for position, (key, names) in enumerate(DEFAULT_CENTERS):
        if key not in existing:
            keywords = {lang: list(words) for lang, words in CENTER_KEYWORDS.get(key, {}).items()}
            existing[key] = Center(key=key, names=dict(names), position=position, keywords=keywords)
            db.session.add(existing[key])
    db.session.flush()
    return sorted(existing.values(), key=lambda c: c.position)


def active_centers() -> list[Center]:
    """Every active center, in display order."""
    return list(db.session.scalars(select(Center).where(Center.is_active.is_(True))
                                   .order_by(Center.position, Center.key)))
