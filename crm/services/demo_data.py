"""Synthetic data for ``crm demo``: names, places and requests that fit each other; no real person."""

#: (ISO 3166 code, language the patient writes in, IANA time zones, relative frequency).
COUNTRIES: list[tuple[str, str, list[str], int]] = [
    ("SA", "ar", ["Asia/Riyadh"], 14),
    ("AE", "ar", ["Asia/Dubai"], 10),
    ("KW", "ar", ["Asia/Kuwait"], 8),
    ("QA", "ar", ["Asia/Qatar"], 6),
    ("EG", "ar", ["Africa/Cairo"], 4),
    ("JO", "ar", ["Asia/Amman"], 3),
    ("MX", "es", ["America/Mexico_City", "America/Monterrey", "America/Tijuana"], 10),
    ("CO", "es", ["America/Bogota"], 7),
    ("AR", "es", ["America/Argentina/Buenos_Aires", "America/Argentina/Cordoba"], 5),
    ("CL", "es", ["America/Santiago"], 5),
    ("PE", "es", ["America/Lima"], 4),
    ("ES", "es", ["Europe/Madrid", "Atlantic/Canary"], 3),
    ("BR", "pt-BR", ["America/Sao_Paulo", "America/Recife", "America/Manaus"], 8),
    ("CN", "zh-Hans", ["Asia/Shanghai", "Asia/Urumqi"], 5),
    ("RU", "ru", ["Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk"], 3),
    ("KZ", "ru", ["Asia/Almaty", "Asia/Aqtobe"], 2),
    ("FR", "fr", ["Europe/Paris"], 2),
    ("MA", "fr", ["Africa/Casablanca"], 2),
    ("CI", "fr", ["Africa/Abidjan"], 1),
    ("GB", "en", ["Europe/London"], 3),
    ("NG", "en", ["Africa/Lagos"], 3),
    ("IN", "en", ["Asia/Kolkata"], 3),
    ("CA", "en", ["America/Toronto", "America/Vancouver", "America/Edmonton"], 4),
]

#: A valid mobile number once every ``#`` is replaced by a random digit (checked with ``phonenumbers``).
PHONE_PATTERNS: dict[str, str] = {
    "SA": "+96650#######", "AE": "+97150#######", "KW": "+96599######", "QA": "+9745#######",
    "EG": "+2010########", "JO": "+96279#######", "MX": "+5255########", "CO": "+57300#######",
    "AR": "+549115#######", "CL": "+56996######", "PE": "+519########", "ES": "+346########",
    "BR": "+55119########", "CN": "+86138########", "RU": "+7916#######", "KZ": "+7701#######",
    "FR": "+3367#######", "MA": "+21266#######", "CI": "+22507########", "GB": "+44775#######",
    "NG": "+234803#######", "IN": "+9198########", "CA": "+14165######",
}

#: Given names by sex and family names, in the script the patient uses. Russian and Kazakh family
#: names change with sex (Иванов, Иванова), so those lists hold only names that do not.
NAMES: dict[str, dict[str, list[str]]] = {
    "SA": {
        "female": ["فاطمة", "نورة", "سارة", "ريم", "هيفاء", "منيرة", "لطيفة", "عبير", "أمل", "الجوهرة", "مها",
                   "هند", "دانة"],
        "male": ["محمد", "عبدالله", "فهد", "سلطان", "خالد", "سعود", "تركي", "ناصر", "بندر", "فيصل",
                 "عبدالعزيز", "ماجد", "نايف"],
        "family": ["العتيبي", "القحطاني", "الشمري", "الدوسري", "الغامدي", "الزهراني", "الحربي", "المطيري",
                   "العنزي", "السبيعي", "الشهري", "المالكي", "العمري"],
    },
    "AE": {
        "female": ["مريم", "عائشة", "شمّا", "حصة", "ميثاء", "موزة", "علياء", "شيخة", "روضة", "فاطمة",
                   "اليازية", "نورة", "ميرة"],
        "male": ["محمد", "أحمد", "سيف", "راشد", "حمدان", "خليفة", "منصور", "سعيد", "عبيد", "حمد", "زايد",
                 "سالم", "مطر"],
        "family": ["المنصوري", "الكعبي", "الظاهري", "المزروعي", "النعيمي", "الشامسي", "السويدي", "الكتبي",
                   "المهيري", "البلوشي", "الحمادي", "الفلاسي", "الرميثي"],
    },
    "KW": {
        "female": ["دانة", "شيخة", "نوف", "لولوة", "بدور", "حصة", "غدير", "أبرار", "فاطمة", "منيرة", "دلال",
                   "رنا", "نادية"],
        "male": ["مشاري", "جاسم", "بدر", "يوسف", "عبدالرحمن", "طلال", "حمد", "خالد", "فهد", "مبارك", "أنور",
                 "وليد", "صالح"],
        "family": ["العنزي", "المطيري", "العجمي", "الرشيدي", "الهاجري", "العوضي", "الكندري", "الشطي",
                   "الفضلي", "الرومي", "البناي", "الصالح", "الدوسري"],
    },
    "QA": {
        "female": ["العنود", "الجازي", "نورة", "مريم", "حصة", "عائشة", "لولوة", "شيخة", "نوف", "موزة", "سارة",
                   "ريم", "أسماء"],
        "male": ["حمد", "جاسم", "علي", "ناصر", "خالد", "عبدالله", "محمد", "عبدالعزيز", "حسن", "فيصل", "سالم",
                 "غانم", "راشد"],
        "family": ["الكواري", "المري", "الهاجري", "النعيمي", "السليطي", "المهندي", "العطية", "الخليفي",
                   "الدوسري", "المناعي", "الكبيسي", "البوعينين", "السويدي"],
    },
    "EG": {
        "female": ["منى", "هبة", "ياسمين", "نهى", "رحاب", "دعاء", "سلمى", "مروة", "إيمان", "نادية", "سماح",
                   "أسماء", "رانيا"],
        "male": ["أحمد", "محمود", "مصطفى", "عمرو", "شريف", "كريم", "هشام", "طارق", "وائل", "إبراهيم", "محمد",
                 "أيمن", "حسام"],
        "family": ["عبد الرحمن", "السيد", "حسن", "إبراهيم", "منصور", "الشناوي", "فهمي", "سليمان",
                   "عبد الفتاح", "النجار", "الجمال", "حجازي", "زكي"],
    },
    "JO": {
        "female": ["رزان", "لينا", "دينا", "رهف", "سلمى", "تالا", "هالة", "رنا", "سوزان", "ليلى", "عبير",
                   "ميس", "هديل"],
        "male": ["عمر", "زيد", "يزن", "حمزة", "أنس", "معاذ", "فراس", "ليث", "باسل", "رامي", "سامر", "إياد",
                 "عدي"],
        "family": ["العبادي", "الزعبي", "المجالي", "الخوالدة", "الطراونة", "الحياري", "العدوان", "النسور",
                   "الرواشدة", "الشوبكي", "الحوراني", "بني هاني", "العمري"],
    },
    "MX": {
        "female": ["María Guadalupe", "Fernanda", "Ximena", "Daniela", "Mariana", "Alejandra", "Verónica",
                   "Gabriela", "Itzel", "Leticia", "Rocío", "Sofía", "Citlali"],
        "male": ["José Luis", "Juan Carlos", "Alejandro", "Miguel Ángel", "Jesús", "Francisco", "Ricardo",
                 "Eduardo", "Arturo", "Rodrigo", "Héctor", "Emiliano", "Óscar"],
        "family": ["Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez",
                   "Ramírez", "Flores", "Cruz", "Morales", "Gutiérrez", "Vázquez"],
    },
    "CO": {
        "female": ["Valentina", "Luisa Fernanda", "Paola", "Catalina", "Natalia", "Juliana", "Ángela",
                   "Diana Marcela", "Lorena", "Sandra", "Yolanda", "Manuela", "Andrea"],
        "male": ["Andrés Felipe", "Juan David", "Carlos Arturo", "Santiago", "Jhon Jairo", "Julián", "Hernán",
                 "Camilo", "Óscar", "Diego", "Mauricio", "Fabio", "Wilson"],
        "family": ["Rodríguez", "Gómez", "Restrepo", "Ospina", "Quintero", "Giraldo", "Cardona", "Jaramillo",
                   "Londoño", "Vargas", "Castaño", "Muñoz", "Zuluaga"],
    },
    "AR": {
        "female": ["Florencia", "Agustina", "Micaela", "Lucía", "Carolina", "Silvina", "Graciela", "Romina",
                   "Camila", "Mercedes", "Soledad", "Mariela", "Belén"],
        "male": ["Martín", "Matías", "Facundo", "Gonzalo", "Nicolás", "Federico", "Sebastián", "Gustavo",
                 "Hernán", "Ezequiel", "Pablo", "Diego", "Ramiro"],
        "family": ["Fernández", "González", "Rodríguez", "Gómez", "Díaz", "Pereyra", "Romero", "Sosa",
                   "Álvarez", "Benítez", "Acosta", "Medina", "Bianchi", "Ferrari"],
    },
    "CL": {
        "female": ["Constanza", "Javiera", "Catalina", "Francisca", "Macarena", "Daniela", "Fernanda",
                   "Josefa", "Carolina", "Paulina", "Valeria", "Ignacia", "Marcela"],
        "male": ["Benjamín", "Vicente", "Matías", "Cristóbal", "Felipe", "Joaquín", "Tomás", "Rodrigo",
                 "Gonzalo", "Patricio", "Ignacio", "Sebastián", "Claudio"],
        "family": ["Muñoz", "Rojas", "Díaz", "Soto", "Contreras", "Silva", "Martínez", "Sepúlveda", "Morales",
                   "Fuentes", "Valenzuela", "Araya", "Espinoza"],
    },
    "PE": {
        "female": ["Rosa", "Milagros", "Lucía", "Gabriela", "Claudia", "Carmen", "Giuliana", "Katherine",
                   "Janet", "Pilar", "Mariela", "Fiorella", "Nathaly"],
        "male": ["Luis", "Jorge", "César", "Víctor", "Renzo", "Piero", "Alonso", "Juan", "Raúl", "Fernando",
                 "Miguel", "Manuel", "Jhonatan"],
        "family": ["Quispe", "Flores", "Huamán", "Mamani", "Chávez", "Rojas", "Vásquez", "Ramos", "Mendoza",
                   "Torres", "Castillo", "Salazar", "Paredes"],
    },
    "ES": {
        "female": ["Lucía", "Carmen", "Laura", "Marta", "Elena", "Pilar", "Nuria", "Montserrat", "Begoña",
                   "Inmaculada", "Cristina", "Irene", "Amparo"],
        "male": ["Javier", "Alejandro", "Pablo", "Sergio", "Jordi", "Iñaki", "Álvaro", "Manuel", "Antonio",
                 "Francisco Javier", "Raúl", "Xavier", "Rubén"],
        "family": ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
                   "Jiménez", "Ruiz", "Navarro", "Iglesias", "Etxeberria", "Puig"],
    },
    "BR": {
        "female": ["Ana Clara", "Maria Eduarda", "Conceição", "Juliana", "Fernanda", "Letícia", "Camila",
                   "Patrícia", "Beatriz", "Luana", "Adriana", "Gabriela", "Aparecida"],
        "male": ["João Pedro", "Luiz Carlos", "Rafael", "Thiago", "Gustavo", "Rodrigo", "Márcio", "Paulo",
                 "Antônio", "Sebastião", "Felipe", "Leandro", "Caio"],
        "family": ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida",
                   "Nascimento", "Lima", "Araújo", "Carvalho", "Gonçalves", "Ribeiro"],
    },
    "CN": {
        "female": ["秀英", "丽", "静", "敏", "婷", "雪", "芳", "玉兰", "欣怡", "佳琪", "晓燕", "淑珍",
                   "梓涵"],
        "male": ["伟", "强", "磊", "军", "勇", "杰", "涛", "浩然", "建国", "志明", "宇轩", "俊杰", "明"],
        "family": ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "胡"],
    },
    "RU": {
        "female": ["Анна", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Мария", "Екатерина",
                   "Юлия", "Людмила", "Дарья", "Галина"],
        "male": ["Александр", "Дмитрий", "Сергей", "Андрей", "Алексей", "Михаил", "Иван", "Николай",
                 "Владимир", "Евгений", "Павел", "Артём", "Игорь"],
        "family": ["Черных", "Белых", "Седых", "Долгих", "Сухих", "Шевченко", "Бондаренко", "Коваленко",
                   "Кравченко", "Ткаченко", "Левченко", "Мороз", "Ким", "Шмидт"],
    },
    "KZ": {
        "female": ["Айгерим", "Динара", "Жанар", "Гульнара", "Асель", "Мадина", "Сауле", "Айжан", "Алия",
                   "Назерке", "Томирис", "Камила", "Дана"],
        "male": ["Нурлан", "Ерлан", "Асхат", "Данияр", "Ержан", "Бауыржан", "Айдар", "Серик", "Арман",
                 "Тимур", "Нурсултан", "Алихан", "Санжар"],
        "family": ["Ким", "Пак", "Цой", "Ли", "Тен", "Хан", "Шин", "Шевченко", "Бондаренко", "Коваленко",
                   "Ткаченко", "Мороз", "Шмидт"],
    },
    "FR": {
        "female": ["Hélène", "Camille", "Isabelle", "Nathalie", "Sophie", "Élodie", "Chloé", "Margaux",
                   "Céline", "Sandrine", "Anaïs", "Véronique", "Maëlle"],
        "male": ["Jean-Pierre", "François", "Nicolas", "Julien", "Mathieu", "Thomas", "Olivier", "Sébastien",
                 "Antoine", "Guillaume", "Benoît", "Jérôme", "Loïc"],
        "family": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
                   "Moreau", "Lefèvre", "Girard", "Fournier", "Mercier"],
    },
    "MA": {
        "female": ["Fatima Zahra", "Khadija", "Salma", "Meryem", "Imane", "Nadia", "Hafsa", "Souad", "Zineb",
                   "Loubna", "Hanane", "Ghizlane", "Samira"],
        "male": ["Mohammed", "Youssef", "Amine", "Hamza", "Mehdi", "Karim", "Rachid", "Abdelilah", "Saïd",
                 "Omar", "Othmane", "Anas", "Hicham"],
        "family": ["Alaoui", "Benali", "El Idrissi", "Bennani", "Tazi", "Berrada", "Chraïbi", "El Amrani",
                   "Benjelloun", "Lahlou", "Ouazzani", "El Fassi", "Sefrioui"],
    },
    "CI": {
        "female": ["Aya", "Adjoua", "Affoué", "Amenan", "Akissi", "Mariam", "Fatou", "Aminata", "Awa",
                   "Christelle", "Grâce", "Estelle", "Nadège"],
        "male": ["Kouadio", "Kouassi", "Koffi", "Yao", "Konan", "Aboubacar", "Ibrahim", "Drissa", "Serge",
                 "Didier", "Hervé", "Jean-Marc", "Yannick"],
        "family": ["Kouassi", "Konan", "Koné", "Traoré", "Ouattara", "Coulibaly", "Diabaté", "Yao",
                   "N'Guessan", "Bamba", "Touré", "Kouamé", "Aka", "Kacou"],
    },
    "GB": {
        "female": ["Olivia", "Charlotte", "Emily", "Sophie", "Hannah", "Rebecca", "Claire", "Sarah",
                   "Eleanor", "Gemma", "Fiona", "Siobhan", "Priya"],
        "male": ["Oliver", "James", "Harry", "Thomas", "William", "George", "Daniel", "Matthew", "Alastair",
                 "Rhys", "Callum", "Imran", "Edward"],
        "family": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thompson",
                   "Walker", "Robinson", "Wright", "Hughes", "Patel"],
    },
    "NG": {
        "female": ["Chiamaka", "Ngozi", "Adaeze", "Funmilayo", "Folake", "Aisha", "Zainab", "Blessing",
                   "Ifeoma", "Temitope", "Amina", "Yetunde", "Nneka"],
        "male": ["Emeka", "Babatunde", "Olumide", "Ifeanyi", "Chinedu", "Musa", "Abubakar", "Ibrahim",
                 "Tunde", "Segun", "Obinna", "Kelechi", "Uche"],
        "family": ["Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Ogunleye", "Bello", "Afolabi", "Adebayo",
                   "Obi", "Chukwu", "Olawale", "Okeke", "Danjuma"],
    },
    "IN": {
        "female": ["Priya", "Ananya", "Kavya", "Lakshmi", "Meera", "Sunita", "Pooja", "Deepika", "Anjali",
                   "Shreya", "Divya", "Nandini", "Aishwarya"],
        "male": ["Rahul", "Arjun", "Vikram", "Rajesh", "Suresh", "Amit", "Sanjay", "Arvind", "Karthik",
                 "Rohan", "Venkatesh", "Aditya", "Manoj"],
        "family": ["Sharma", "Patel", "Reddy", "Iyer", "Nair", "Gupta", "Singh", "Kumar", "Mehta", "Rao",
                   "Menon", "Joshi", "Chatterjee", "Agarwal"],
    },
    "CA": {
        "female": ["Emma", "Olivia", "Chloé", "Sarah", "Jessica", "Madison", "Isabelle", "Geneviève", "Megan",
                   "Ashley", "Nicole", "Amélie", "Jennifer"],
        "male": ["Liam", "Noah", "Ethan", "Jacob", "Ryan", "Tyler", "Mathieu", "Étienne", "Justin", "Kevin",
                 "Connor", "Marc-André", "Brandon"],
        "family": ["Smith", "Brown", "Tremblay", "Martin", "Roy", "Wilson", "MacDonald", "Gagnon", "Johnson",
                   "Taylor", "Campbell", "Lee", "Anderson", "Côté"],
    },
}

#: What a patient or relative writes when asking for help: center key -> language -> three requests.
REASONS: dict[str, dict[str, list[str]]] = {
    "cardiology": {
        "en": [
            "My father is 68 and was told he needs a triple bypass after a heart attack last month. We "
            "would like a second opinion from your cardiac surgeons before deciding where to have the "
            "operation.",
            "I have atrial fibrillation that keeps coming back despite two cardioversions and medication. "
            "My cardiologist mentioned catheter ablation. Could your team review my ECGs and Holter results?",
            "My mother has severe aortic stenosis and is 81 years old. Her doctors say open-heart surgery "
            "is too risky for her; we want to know if she could be a candidate for TAVR at your hospital.",
        ],
        "es": [
            "Buenas tardes. Tengo 54 años y me diagnosticaron una arritmia (fibrilación auricular) que no "
            "mejora con los medicamentos. Mi cardiólogo sugiere una ablación y quisiera una segunda opinión "
            "con ustedes.",
            "Mi papá tiene insuficiencia cardíaca y la fracción de eyección le bajó al 25 %. Aquí nos "
            "hablan de un desfibrilador o incluso de un trasplante. ¿Podrían revisar su caso y decirnos qué "
            "opciones tiene?",
            "A mi esposo le encontraron una insuficiencia mitral severa y le recomiendan cirugía. Queremos "
            "saber si en su hospital se la pueden reparar con cirugía mínimamente invasiva y cuánto "
            "costaría.",
        ],
        "ar": [
            "السلام عليكم، والدي في الخامسة والستين من عمره، وأخبره الأطباء بعد الجلطة أنه يحتاج إلى عملية "
            "قلب مفتوح لزراعة ثلاثة شرايين تاجية. نرغب في رأي طبي ثانٍ من جرّاحي القلب لديكم قبل اتخاذ "
            "القرار.",
            "أعاني من عدم انتظام في ضربات القلب (رجفان أذيني) منذ سنتين، ولم تنفع الأدوية ولا الصدمات "
            "الكهربائية. اقترح طبيبي إجراء كيّ كهربائي للقلب، فهل يمكن لفريقكم مراجعة تخطيط القلب وجهاز "
            "هولتر؟",
            "والدتي مصابة بتضيّق شديد في الصمام الأورطي وعمرها ثمانون عامًا، والأطباء هنا يرون أن الجراحة "
            "المفتوحة خطيرة عليها. هل يمكن أن تكون مرشحة لتغيير الصمام عن طريق القسطرة في مستشفاكم؟",
        ],
        "zh-Hans": [
            "您好，我父亲今年67岁，上个月心梗后医生建议做冠状动脉搭桥手术（三根桥）。"
            "我们想在手术前请贵院心外科专家给一个第二诊疗意见。",
            "我患房颤已经三年了，吃药和两次电复律效果都不好，当地医生建议做射频消融。"
            "请问贵院能否先远程看一下我的心电图和动态心电图报告？",
            "我母亲被诊断为重度主动脉瓣狭窄，今年80岁，医生说开胸手术风险太大。"
            "想咨询一下她是否适合在贵院做经导管主动脉瓣置换（TAVR）。",
        ],
        "pt-BR": [
            "Boa tarde. Meu pai tem 70 anos e o cardiologista indicou cirurgia de ponte de safena, com três "
            "pontes. Gostaríamos de uma segunda opinião da equipe de cirurgia cardíaca de vocês antes de "
            "operar.",
            "Tenho arritmia (fibrilação atrial) há dois anos e os remédios não estão controlando. Meu "
            "médico falou em ablação. Vocês poderiam avaliar meus exames de Holter e eletrocardiograma?",
            "Minha mãe tem insuficiência cardíaca, com fração de ejeção de 20 %, e vive cansada e com falta "
            "de ar. Queremos saber se existe algum tratamento mais avançado no hospital de vocês.",
        ],
        "ru": [
            "Здравствуйте. Моему отцу 66 лет, после инфаркта ему рекомендовали аортокоронарное "
            "шунтирование. Хотели бы получить второе мнение ваших кардиохирургов, прежде чем соглашаться на "
            "операцию.",
            "У меня уже два года пароксизмальная фибрилляция предсердий, препараты почти не помогают. Врач "
            "предлагает радиочастотную абляцию. Можно ли отправить вам ЭКГ и результаты холтера на "
            "консультацию?",
            "У мамы тяжёлый аортальный стеноз, ей 79 лет, и местные хирурги считают открытую операцию "
            "слишком рискованной. Подходит ли она для транскатетерной замены клапана (TAVI) в вашей клинике?",
        ],
        "fr": [
            "Bonjour, mon père a 69 ans et son cardiologue lui propose un triple pontage coronarien après "
            "un infarctus. Nous souhaiterions avoir l'avis de vos chirurgiens cardiaques avant de prendre "
            "une décision.",
            "Je souffre d'une fibrillation auriculaire qui récidive malgré le traitement et deux "
            "cardioversions. On m'a parlé d'une ablation par cathéter. Pourriez-vous examiner mes ECG et "
            "mon Holter ?",
            "Ma mère a une insuffisance mitrale sévère et on lui recommande une chirurgie valvulaire. Nous "
            "aimerions savoir si une réparation mini-invasive est possible chez vous, et à quel coût.",
        ],
    },
    "digestive_health": {
        "en": [
            "I was diagnosed with Crohn's disease eight years ago and have had two bowel resections. My "
            "current biologic has stopped working and I would like your IBD specialists to review my case.",
            "My husband has cirrhosis from hepatitis B, and his last scan showed a possible tumor in the "
            "liver. We need an expert opinion on his liver and on the treatment options that remain.",
            "A CT scan showed a 3 cm cyst in my pancreas. My local surgeon wants to remove part of the "
            "pancreas, but another doctor said to wait. Can your pancreas team give me a second opinion?",
        ],
        "es": [
            "Hola, tengo 29 años y enfermedad de Crohn desde la adolescencia. Ya probé varios biológicos y "
            "sigo con brotes y fístulas. Me gustaría que sus especialistas revisaran mi caso.",
            "A mi mamá le detectaron cirrosis hepática y un nódulo en el hígado. Los médicos de aquí no se "
            "ponen de acuerdo sobre si operar o hacer un trasplante. ¿Nos pueden dar una segunda opinión?",
            "En una colonoscopia me encontraron un pólipo grande en el colon que no pudieron quitar. Me "
            "proponen cirugía, pero quisiera saber si en su hospital lo pueden resecar por endoscopia.",
        ],
        "ar": [
            "أعاني من داء كرون منذ عشر سنوات، وأُجريت لي عملية لاستئصال جزء من الأمعاء، لكن الأعراض عادت "
            "ولم يعد العلاج البيولوجي يفيد. أرجو أن يطّلع أطباؤكم المختصون على حالتي.",
            "زوجي مصاب بتليّف الكبد بسبب التهاب الكبد الوبائي (سي)، وظهرت في الأشعة الأخيرة كتلة صغيرة في "
            "الكبد. نحتاج إلى رأي متخصص حول أفضل خيارات العلاج المتاحة له.",
            "أظهرت الأشعة المقطعية وجود كيس في البنكرياس لدى والدي، ونصحه الجرّاح بالاستئصال. نريد التأكد "
            "من ضرورة العملية قبل إجرائها، فهل يمكنكم مراجعة الصور والتقارير؟",
        ],
        "zh-Hans": [
            "您好，我今年32岁，确诊克罗恩病已经十年，做过一次肠切除，现在用的生物制剂也失效了。"
            "希望贵院炎症性肠病专家能帮我看看下一步怎么治疗。",
            "我丈夫有乙肝肝硬化，最近CT发现肝上有一个2厘米的结节，怀疑是肝癌。想请贵院肝病专家评估一下，"
            "是手术、介入还是肝移植更合适。",
            "我父亲体检发现胰腺上有囊性病变，当地医生建议手术切除，但我们担心风险太大。"
            "能否请贵院胰腺专家先看一下影像资料？",
        ],
        "pt-BR": [
            "Olá, tenho doença de Crohn há dez anos e já fiz duas cirurgias no intestino. O imunobiológico "
            "que uso parou de fazer efeito e gostaria da opinião dos especialistas de vocês.",
            "Meu marido tem cirrose por hepatite C e a última ressonância mostrou um nódulo no fígado. Os "
            "médicos daqui falaram em transplante. Queremos uma segunda opinião antes de decidir.",
            "Minha mãe fez uma colonoscopia e encontraram um tumor no intestino grosso. O cirurgião quer "
            "operar logo, mas gostaríamos que vocês revisassem a biópsia e os exames antes.",
        ],
        "ru": [
            "Добрый день. У меня болезнь Крона уже девять лет, перенесла резекцию кишки, сейчас снова "
            "обострение, а биологическая терапия перестала помогать. Прошу ваших гастроэнтерологов оценить "
            "мой случай.",
            "У мужа цирроз печени на фоне гепатита B, на последнем МРТ нашли образование в печени. Врачи "
            "здесь говорят разное. Нам нужно мнение специалистов по заболеваниям печени.",
            "У отца на КТ обнаружили кисту поджелудочной железы, хирург предлагает операцию. Хотим понять, "
            "действительно ли она нужна. Можно ли прислать вам снимки на консультацию?",
        ],
        "fr": [
            "Bonjour, j'ai 31 ans et une maladie de Crohn depuis l'âge de 18 ans. Après une résection "
            "intestinale et plusieurs biothérapies, les poussées continuent. Je voudrais l'avis de vos "
            "spécialistes des MICI.",
            "Mon mari a une cirrhose du foie et on vient de découvrir un nodule suspect à l'IRM. Les "
            "médecins hésitent entre une chirurgie et une greffe. Pouvez-vous nous donner un second avis ?",
            "Mon père a une tumeur kystique du pancréas et le chirurgien propose de l'opérer. Avant "
            "d'accepter, nous aimerions que votre équipe examine son scanner et ses analyses.",
        ],
    },
    "neurology": {
        "en": [
            "My 34-year-old sister was diagnosed with a glioma after a seizure. The tumor is close to the "
            "speech area and the surgeons here hesitate to operate. Could your neurosurgery team review her "
            "MRI?",
            "I have had epilepsy since childhood and still have several seizures a month despite three "
            "medications. I read about epilepsy surgery and would like to know if I could be evaluated.",
            "My father has had Parkinson's disease for ten years and his medication no longer controls the "
            "tremor. His neurologist mentioned deep brain stimulation. Would he be a candidate at your "
            "center?",
        ],
        "es": [
            "A mi hermana de 40 años le encontraron un tumor cerebral (meningioma) en la base del cráneo. "
            "Aquí la cirugía parece muy riesgosa y queremos la opinión de sus neurocirujanos.",
            "Mi hijo de 19 años tiene epilepsia refractaria y sigue con crisis casi cada semana a pesar de "
            "los medicamentos. ¿Podrían evaluarlo para una cirugía de epilepsia?",
            "Tengo una hernia de disco lumbar con un dolor que me baja por la pierna desde hace un año. Me "
            "propusieron una fusión de columna y quisiera una segunda opinión antes de operarme.",
        ],
        "ar": [
            "شُخّصت أختي بورم في الدماغ بعد نوبة تشنّج مفاجئة، والورم قريب من منطقة النطق، والجرّاحون هنا "
            "مترددون في إجراء العملية. نرجو أن يراجع جرّاحو الأعصاب لديكم صور الرنين المغناطيسي.",
            "ابني عمره تسعة عشر عامًا ولديه صرع لا يستجيب للأدوية، وتتكرر النوبات عدة مرات في الأسبوع. هل "
            "يمكن تقييمه لإمكانية إجراء جراحة للصرع في مستشفاكم؟",
            "والدي مصاب بمرض باركنسون منذ ثماني سنوات، ولم تعد الأدوية تسيطر على الرعشة. سمعنا عن التحفيز "
            "العميق للدماغ ونود معرفة ما إذا كان مناسبًا لحالته.",
        ],
        "zh-Hans": [
            "我妹妹34岁，因为突然抽搐检查发现脑胶质瘤，肿瘤靠近语言区，当地医生不敢做手术。"
            "想请贵院神经外科专家看一下核磁共振片子。",
            "我患癫痫十多年了，吃三种药还是每个月发作好几次。听说癫痫可以手术治疗，"
            "想了解我是否适合到贵院做术前评估。",
            "我父亲患帕金森病八年，现在药物已经控制不住震颤，走路也越来越困难。医生提到脑深部电刺激（DBS），"
            "想咨询贵院能否评估。",
        ],
        "pt-BR": [
            "Minha irmã de 38 anos teve uma convulsão e descobriu um tumor no cérebro. O neurocirurgião "
            "daqui disse que a cirurgia é arriscada. Vocês podem avaliar a ressonância dela?",
            "Tenho epilepsia desde criança e continuo tendo crises mesmo tomando três remédios. Gostaria de "
            "saber se sou candidato à cirurgia de epilepsia no hospital de vocês.",
            "Tenho hérnia de disco na coluna cervical, com dor e formigamento no braço há meses. Indicaram "
            "artrodese, mas queria uma segunda opinião antes de operar.",
        ],
        "ru": [
            "У сестры, ей 36 лет, после судорожного приступа обнаружили глиому головного мозга рядом с "
            "речевой зоной. Местные нейрохирурги не решаются оперировать. Можно ли получить консультацию по "
            "снимкам МРТ?",
            "Моему сыну 17 лет, у него фармакорезистентная эпилепсия, приступы несколько раз в неделю. "
            "Рассматриваете ли вы таких пациентов для хирургического лечения эпилепсии?",
            "У отца болезнь Паркинсона уже десять лет, лекарства почти не действуют, сильный тремор. Нам "
            "рассказали о глубокой стимуляции мозга. Подходит ли ему этот метод?",
        ],
        "fr": [
            "Ma sœur de 35 ans a fait une crise d'épilepsie et l'IRM a montré une tumeur cérébrale proche "
            "de la zone du langage. Les neurochirurgiens ici hésitent à opérer. Pouvez-vous examiner son "
            "dossier ?",
            "Je suis épileptique depuis l'enfance et j'ai encore plusieurs crises par mois malgré trois "
            "médicaments. Je voudrais savoir si une chirurgie de l'épilepsie est envisageable dans votre "
            "centre.",
            "Mon père est atteint de la maladie de Parkinson depuis neuf ans et les traitements ne "
            "suffisent plus. Son neurologue a parlé de stimulation cérébrale profonde. Serait-il un bon "
            "candidat ?",
        ],
    },
    "cancer": {
        "en": [
            "My wife was diagnosed with stage III breast cancer and starts chemotherapy soon. We would like "
            "your oncologists to review her pathology and treatment plan, and to hear about clinical trials.",
            "I am 58 and have lung adenocarcinoma with an EGFR mutation. The cancer progressed on targeted "
            "therapy and I am looking for a second opinion or a clinical trial.",
            "My brother has pancreatic cancer that was considered inoperable. We heard your center "
            "sometimes operates after chemotherapy. Could your team review his CT scans and reports?",
        ],
        "es": [
            "A mi mamá le diagnosticaron cáncer de ovario avanzado. Ya terminó la quimioterapia, pero el "
            "marcador CA-125 volvió a subir. Queremos saber si hay algún ensayo clínico para ella.",
            "Tengo 47 años y un linfoma no Hodgkin que recayó después del primer tratamiento. Mi hematóloga "
            "habla de trasplante de médula o de terapia CAR-T. ¿Ofrecen CAR-T en su hospital?",
            "Mi esposo tiene cáncer de colon con metástasis en el hígado. Aquí nos dicen que no es operable "
            "y quisiéramos una segunda opinión de su equipo de oncología.",
        ],
        "ar": [
            "شُخّصت زوجتي بسرطان الثدي في المرحلة الثالثة، ونريد أن يراجع أطباء الأورام لديكم تقرير الخزعة "
            "وخطة العلاج، كما نود معرفة ما إذا كانت هناك تجارب سريرية مناسبة لها.",
            "والدي مصاب بسرطان الرئة وقد انتشر إلى العظام، والعلاج الكيميائي لم يعد مجديًا. نبحث عن رأي طبي "
            "ثانٍ أو علاج حديث مثل العلاج المناعي أو تجربة سريرية.",
            "أخي في الخامسة والثلاثين وشُخّص بسرطان الدم (اللوكيميا)، والأطباء يتحدثون عن زراعة نخاع العظم. "
            "نرغب في معرفة إمكانية علاجه لديكم والتكلفة التقريبية.",
        ],
        "zh-Hans": [
            "我母亲确诊乳腺癌三期，准备开始化疗。我们希望贵院肿瘤专家复核病理报告和治疗方案，"
            "也想了解有没有合适的临床试验。",
            "我今年56岁，肺腺癌EGFR突变，靶向药吃了两年后耐药，病情进展。想请贵院给出第二诊疗意见，"
            "或者看看是否有可以参加的临床试验。",
            "我哥哥被诊断为胰腺癌，当地医院说已经不能手术。听说贵院有新辅助化疗后再手术的经验，"
            "能否请专家看一下他的CT和病历？",
        ],
        "pt-BR": [
            "Minha esposa foi diagnosticada com câncer de mama estágio III. Gostaríamos que os oncologistas "
            "de vocês revisassem a biópsia e o plano de tratamento, e saber se há estudos clínicos.",
            "Meu pai tem câncer de próstata com metástase óssea e a hormonioterapia parou de fazer efeito. "
            "Procuramos uma segunda opinião e informações sobre tratamentos mais novos.",
            "Tenho 42 anos e um melanoma que voltou depois da cirurgia. O oncologista daqui sugeriu "
            "imunoterapia, mas gostaria de ouvir a equipe de vocês antes de começar.",
        ],
        "ru": [
            "У жены рак молочной железы третьей стадии, скоро начнётся химиотерапия. Просим ваших онкологов "
            "пересмотреть гистологию и план лечения, а также рассказать о возможных клинических "
            "исследованиях.",
            "Мне 59 лет, у меня аденокарцинома лёгкого с мутацией EGFR. На таргетной терапии началось "
            "прогрессирование. Ищу второе мнение или возможность участвовать в клиническом исследовании.",
            "У брата рак поджелудочной железы, здесь сказали, что опухоль неоперабельна. Мы слышали, что у "
            "вас иногда оперируют после химиотерапии. Можете ли вы посмотреть его КТ?",
        ],
        "fr": [
            "Ma femme a un cancer du sein de stade III et doit commencer une chimiothérapie. Nous "
            "souhaiterions que vos oncologues revoient la biopsie et nous parlent des essais cliniques "
            "possibles.",
            "Mon père a un cancer de la prostate avec des métastases osseuses, et l'hormonothérapie ne "
            "marche plus. Nous cherchons un deuxième avis et des options de traitement plus récentes.",
            "J'ai 45 ans et un lymphome qui a rechuté après la première chimiothérapie. Mon hématologue "
            "parle d'autogreffe ou de CAR-T. Proposez-vous ces traitements dans votre hôpital ?",
        ],
    },
    "orthopaedics": {
        "en": [
            "I am 62 and have severe arthritis in both knees; I can barely walk a few hundred meters. I "
            "would like to know whether I am a candidate for knee replacement at your hospital.",
            "My son tore his ACL and meniscus playing football. He is a university athlete and we want an "
            "experienced surgeon for the reconstruction. Can you review his MRI?",
            "My hip replacement from six years ago has become painful and loose. My surgeon says I need a "
            "revision, which is complex, and I would like your orthopaedic team's opinion.",
        ],
        "es": [
            "Tengo 65 años y artrosis severa de cadera. El dolor ya no me deja dormir y quisiera saber si "
            "me pueden hacer un reemplazo de cadera en su hospital y cuánto tiempo tendría que quedarme.",
            "Mi hija de 14 años tiene una escoliosis de 48 grados y el ortopedista dice que necesita "
            "cirugía. Queremos una segunda opinión de sus especialistas en columna.",
            "Me rompí el ligamento cruzado anterior jugando fútbol y también tengo el menisco dañado. Soy "
            "deportista y quiero operarme con un cirujano de mucha experiencia.",
        ],
        "ar": [
            "أعاني من خشونة شديدة في الركبتين منذ سنوات، ولم أعد أستطيع المشي حتى لمسافات قصيرة. أرغب في "
            "معرفة ما إذا كنت مناسبًا لعملية تغيير مفصل الركبة في مستشفاكم.",
            "ابني لاعب كرة قدم وأصيب بقطع في الرباط الصليبي الأمامي وتمزق في الغضروف الهلالي. نريد جرّاحًا "
            "ذا خبرة لإجراء عملية الترميم، فهل يمكنكم مراجعة صور الرنين؟",
            "أجريت عملية تغيير مفصل الورك قبل سبع سنوات، والآن أشعر بألم شديد والمفصل غير ثابت. قال طبيبي "
            "إنني أحتاج إلى عملية مراجعة معقدة، وأود معرفة رأيكم.",
        ],
        "zh-Hans": [
            "我今年63岁，双膝重度骨关节炎，现在走几百米就疼得受不了。"
            "想咨询一下是否适合在贵院做膝关节置换手术。",
            "我儿子踢球时前交叉韧带断裂，半月板也有损伤。他是大学运动员，希望找经验丰富的医生做重建手术。"
            "能先帮忙看一下核磁共振吗？",
            "我女儿14岁，脊柱侧弯已经到了50度，当地医生建议手术矫正。我们想听听贵院脊柱外科专家的意见。",
        ],
        "pt-BR": [
            "Tenho 64 anos e artrose grave no quadril. A dor não me deixa dormir e já ando de bengala. "
            "Gostaria de saber se posso colocar a prótese de quadril no hospital de vocês.",
            "Meu filho rompeu o ligamento cruzado anterior jogando futebol e também lesionou o menisco. Ele "
            "é atleta e queremos um cirurgião muito experiente para a reconstrução.",
            "Minha filha de 13 anos tem escoliose de 45 graus e o ortopedista indicou cirurgia. Queremos "
            "uma segunda opinião de especialistas em coluna antes de decidir.",
        ],
        "ru": [
            "Мне 61 год, у меня тяжёлый артроз обоих коленных суставов, без боли могу пройти совсем "
            "немного. Хотел бы узнать, возможно ли эндопротезирование коленного сустава в вашей клинике.",
            "Сын, профессиональный хоккеист, порвал переднюю крестообразную связку и мениск. Мы ищем "
            "опытного хирурга для реконструкции. Можно ли прислать вам МРТ?",
            "Шесть лет назад мне поставили эндопротез тазобедренного сустава, сейчас он расшатался и болит. "
            "Нужна ревизионная операция, и я хотел бы услышать мнение ваших ортопедов.",
        ],
        "fr": [
            "J'ai 66 ans et une arthrose sévère de la hanche qui m'empêche de marcher normalement. Je "
            "voudrais savoir si je peux bénéficier d'une prothèse de hanche chez vous, et pour combien de "
            "temps.",
            "Mon fils s'est rompu le ligament croisé antérieur et le ménisque en jouant au football. Il est "
            "sportif de haut niveau et nous cherchons un chirurgien expérimenté pour la ligamentoplastie.",
            "Ma fille de 15 ans a une scoliose de 50 degrés et on lui propose une arthrodèse vertébrale. "
            "Nous aimerions l'avis de vos chirurgiens du rachis avant de décider.",
        ],
    },
    "transplant": {
        "en": [
            "My husband has end-stage kidney disease and has been on dialysis for two years. His brother "
            "wants to donate a kidney. Could both of them be evaluated at your transplant center?",
            "I have primary sclerosing cholangitis and my MELD score keeps rising. My hepatologist says I "
            "will need a liver transplant. Do you evaluate international patients for transplant?",
            "My father had a kidney transplant ten years ago and now his creatinine is rising. His doctors "
            "suspect chronic rejection. We would like your transplant nephrologists to review his results.",
        ],
        "es": [
            "Mi esposo está en diálisis desde hace tres años por insuficiencia renal y su hermana quiere "
            "donarle un riñón. ¿Es posible hacer el trasplante de donante vivo en su hospital?",
            "Tengo cirrosis por hígado graso y mi hepatólogo dice que voy a necesitar un trasplante "
            "hepático. Quisiera saber si aceptan pacientes extranjeros y qué estudios debo enviar.",
            "Mi hija de 22 años tiene fibrosis quística y su función pulmonar sigue bajando. Le hablaron de "
            "un trasplante de pulmón. ¿Podrían evaluar si es candidata?",
        ],
        "ar": [
            "زوجي مصاب بالفشل الكلوي ويخضع للغسيل الكلوي منذ ثلاث سنوات، وأخوه مستعد للتبرع بكلية. هل يمكن "
            "إجراء الفحوصات للمتبرع والمريض وإجراء عملية الزراعة لديكم؟",
            "والدي مصاب بتليّف متقدم في الكبد، والأطباء يقولون إنه يحتاج إلى زراعة كبد. أحد أبنائه مستعد "
            "للتبرع بجزء من كبده، فهل تُجرون زراعة الكبد من متبرع حي؟",
            "أُجريت لي زراعة كلية قبل ثماني سنوات، ومؤخرًا بدأ مستوى الكرياتينين في الارتفاع، ويشكّ الأطباء "
            "في وجود رفض مزمن. أرغب في استشارة فريق الزراعة لديكم.",
        ],
        "zh-Hans": [
            "我丈夫尿毒症透析两年了，他弟弟愿意捐一个肾给他。请问贵院是否接受外国患者的亲属活体肾移植，"
            "需要先准备哪些检查资料？",
            "我父亲是酒精性肝硬化终末期，医生说只有肝移植才能救命。"
            "想了解贵院是否接收国际患者进行肝移植评估。",
            "我八年前做了肾移植，最近肌酐持续升高，当地医生怀疑是慢性排斥反应。"
            "希望贵院移植专家帮忙看看化验结果和活检报告。",
        ],
        "pt-BR": [
            "Meu marido faz hemodiálise há três anos e a irmã dele quer doar um rim. Gostaríamos de saber "
            "se o transplante com doador vivo pode ser feito no hospital de vocês.",
            "Tenho colangite esclerosante primária e meu hepatologista disse que vou precisar de um "
            "transplante de fígado. Vocês aceitam pacientes estrangeiros para avaliação?",
            "Minha filha tem fibrose cística e a função pulmonar só piora. Os médicos falaram em "
            "transplante de pulmão e queremos saber se ela pode ser avaliada por vocês.",
        ],
        "ru": [
            "Мужу 45 лет, он третий год на гемодиализе. Его брат готов стать донором почки. Возможно ли "
            "провести обследование и трансплантацию от живого родственного донора в вашем центре?",
            "У мамы цирроз печени в терминальной стадии, врачи говорят, что поможет только пересадка. "
            "Принимаете ли вы иностранных пациентов на трансплантацию печени и какие документы нужны?",
            "Восемь лет назад мне пересадили почку, сейчас растёт креатинин, подозревают хроническое "
            "отторжение. Хотел бы проконсультироваться у ваших трансплантологов.",
        ],
        "fr": [
            "Mon mari est dialysé depuis trois ans et son frère souhaite lui donner un rein. Est-il "
            "possible de réaliser la greffe à partir d'un donneur vivant dans votre hôpital ?",
            "Ma mère a une cirrhose avancée et les hépatologues disent qu'elle aura besoin d'une greffe de "
            "foie. Acceptez-vous les patients étrangers pour un bilan pré-greffe ?",
            "J'ai été greffé du rein il y a neuf ans et ma créatinine augmente depuis quelques mois. On "
            "soupçonne un rejet chronique. Je voudrais l'avis de votre équipe de transplantation.",
        ],
    },
    "pediatrics": {
        "en": [
            "Our 8-month-old daughter was born with a complex heart defect (tetralogy of Fallot) and needs "
            "surgery. We would like your pediatric cardiac surgeons to review her echocardiogram.",
            "My 6-year-old son has acute lymphoblastic leukemia that relapsed after treatment. His "
            "oncologist suggested CAR-T therapy. Can your pediatric team evaluate him?",
            "Our son is 3 years old and still does not speak, and the doctors here suspect a genetic "
            "syndrome. We would like a full evaluation by your developmental and genetics specialists.",
        ],
        "es": [
            "Nuestro bebé de 5 meses nació con una cardiopatía congénita (una comunicación interventricular "
            "grande) y necesita cirugía. Queremos que sus cirujanos cardíacos pediátricos revisen el "
            "ecocardiograma.",
            "Mi hija de 7 años tiene leucemia y tuvo una recaída. Su oncóloga nos habló de la terapia "
            "CAR-T. ¿Podrían evaluar a la niña en su hospital?",
            "Nuestro hijo de 4 años tiene convulsiones frecuentes y retraso en el desarrollo. Los "
            "neurólogos de aquí no encuentran la causa y queremos una evaluación completa.",
        ],
        "ar": [
            "ابنتنا عمرها ستة أشهر، وُلدت بعيب خلقي معقد في القلب (رباعية فالو) وتحتاج إلى عملية جراحية. "
            "نرجو أن يراجع جرّاحو قلب الأطفال لديكم تخطيط صدى القلب.",
            "ابني عمره سبع سنوات ومصاب بسرطان الدم الليمفاوي الحاد، وقد عاد المرض بعد العلاج الكيميائي. "
            "اقترحت طبيبته العلاج بالخلايا التائية (CAR-T)، فهل يتوفر لديكم؟",
            "طفلي عمره ثلاث سنوات ولم يبدأ الكلام بعد، ويشتبه الأطباء في وجود متلازمة وراثية. نرغب في تقييم "
            "شامل لدى أطباء النمو والوراثة في مستشفاكم.",
        ],
        "zh-Hans": [
            "我女儿刚满8个月，出生时就查出复杂先天性心脏病（法洛四联症），需要手术。"
            "希望贵院小儿心脏外科专家看看她的心脏超声。",
            "我儿子6岁，急性淋巴细胞白血病治疗后复发了。主治医生提到CAR-T治疗，"
            "想咨询贵院儿科能否为他做评估。",
            "孩子3岁还不会说话，走路也比同龄人晚，当地医生怀疑是遗传综合征。"
            "我们希望到贵院做一次全面的发育和基因评估。",
        ],
        "pt-BR": [
            "Nossa filha de 6 meses nasceu com uma cardiopatia congênita complexa (tetralogia de Fallot) e "
            "precisa de cirurgia. Gostaríamos que os cirurgiões cardíacos pediátricos de vocês vissem o "
            "ecocardiograma.",
            "Meu filho de 7 anos tem leucemia linfoide aguda e teve recaída depois do tratamento. A "
            "oncologista falou em CAR-T. Vocês poderiam avaliar o caso dele?",
            "Nosso filho de 3 anos ainda não fala e tem atraso no desenvolvimento. Os médicos daqui "
            "suspeitam de uma síndrome genética e queremos uma avaliação completa.",
        ],
        "ru": [
            "Нашей дочери 7 месяцев, у неё сложный врождённый порок сердца (тетрада Фалло), нужна операция. "
            "Просим ваших детских кардиохирургов посмотреть результаты ЭхоКГ.",
            "Сыну 6 лет, у него рецидив острого лимфобластного лейкоза после химиотерапии. Лечащий врач "
            "говорит о CAR-T-терапии. Можете ли вы его обследовать?",
            "Ребёнку 3 года, он до сих пор не говорит, есть задержка развития. Врачи подозревают "
            "генетический синдром. Хотим пройти полное обследование у ваших специалистов.",
        ],
        "fr": [
            "Notre fille de 7 mois est née avec une cardiopathie congénitale complexe (tétralogie de "
            "Fallot) et doit être opérée. Nous aimerions que vos chirurgiens cardiaques pédiatriques "
            "examinent son échographie.",
            "Mon fils de 6 ans a une leucémie aiguë lymphoblastique qui a rechuté. Son oncologue évoque un "
            "traitement par CAR-T. Votre service de pédiatrie pourrait-il l'évaluer ?",
            "Notre fils de 3 ans ne parle pas encore et a un retard de développement. Les médecins ici "
            "soupçonnent un syndrome génétique ; nous souhaitons un bilan complet dans votre hôpital.",
        ],
    },
    "urology_kidney": {
        "en": [
            "My PSA has risen to 9 and a biopsy showed prostate cancer, Gleason 7. I would like to discuss "
            "robotic prostatectomy versus radiation with your urologists.",
            "I have had recurrent large kidney stones for years and have already had three procedures. I "
            "want to understand why they keep forming and what can be done to prevent them.",
            "My mother has polycystic kidney disease and her kidney function is at 25%. We would like a "
            "nephrology opinion on slowing the disease and preparing for dialysis or a transplant.",
        ],
        "es": [
            "Tengo 63 años, el PSA me salió en 10 y la biopsia confirmó cáncer de próstata. Quisiera saber "
            "si en su hospital hacen prostatectomía robótica y cuál sería el mejor tratamiento para mí.",
            "Desde hace años tengo cálculos renales que vuelven una y otra vez; ya me operaron tres veces. "
            "Quisiera una evaluación completa para entender la causa y prevenirlos.",
            "A mi padre le encontraron un tumor de 4 cm en el riñón. El urólogo quiere quitarle el riñón "
            "entero y nos preguntamos si se podría hacer una nefrectomía parcial.",
        ],
        "ar": [
            "ارتفع مستوى مستضد البروستاتا (PSA) لديّ إلى ٩، وأظهرت الخزعة وجود سرطان في البروستاتا. أود "
            "مناقشة الاستئصال بالروبوت مقارنةً بالعلاج الإشعاعي مع أطباء المسالك البولية لديكم.",
            "أعاني من حصوات متكررة في الكلى منذ سنوات، وأُجريت لي ثلاث عمليات لتفتيتها وإزالتها. أريد معرفة "
            "سبب تكوّنها وكيف يمكن منع عودتها.",
            "اكتُشف ورم في كلية والدي حجمه أربعة سنتيمترات، والطبيب يريد استئصال الكلية كاملة. نتساءل إن "
            "كان من الممكن إزالة الورم فقط مع الحفاظ على الكلية.",
        ],
        "zh-Hans": [
            "我今年64岁，PSA升到9，穿刺活检确诊前列腺癌，Gleason评分7分。想咨询贵院泌尿外科，"
            "机器人根治手术和放疗哪个更适合我。",
            "我反复肾结石好多年了，已经做过三次碎石和手术，还是不断长。希望贵院能帮我查清原因，"
            "看看怎么预防复发。",
            "我父亲体检发现肾脏有一个4厘米的肿瘤，当地医生建议整个肾切除。"
            "我们想知道能不能只做保肾的部分切除。",
        ],
        "pt-BR": [
            "Tenho 62 anos, meu PSA subiu para 9 e a biópsia mostrou câncer de próstata. Gostaria de saber "
            "se vocês fazem prostatectomia robótica e qual tratamento seria melhor no meu caso.",
            "Sofro com cálculo renal há anos e já fiz três procedimentos, mas as pedras sempre voltam. "
            "Quero uma avaliação completa para descobrir a causa.",
            "Minha mãe tem rins policísticos e a função renal está em 25 %. Queremos a opinião de um "
            "nefrologista sobre como retardar a doença e nos preparar para diálise ou transplante.",
        ],
        "ru": [
            "Мне 63 года, ПСА вырос до 9, биопсия показала рак простаты, Глисон 7. Хотел бы обсудить с "
            "вашими урологами роботизированную простатэктомию и лучевую терапию.",
            "Много лет страдаю от рецидивирующих камней в почках, перенёс уже три вмешательства. Хочу "
            "понять причину и узнать, как предотвратить образование новых камней.",
            "У папы нашли опухоль почки размером 4 см, уролог предлагает удалить почку целиком. Можно ли в "
            "вашей клинике сделать органосохраняющую резекцию?",
        ],
        "fr": [
            "J'ai 64 ans, mon PSA est monté à 9 et la biopsie a montré un cancer de la prostate. J'aimerais "
            "discuter avec vos urologues d'une prostatectomie robotique ou d'une radiothérapie.",
            "Je fais des calculs rénaux à répétition depuis des années et j'ai déjà subi trois "
            "interventions. Je voudrais un bilan complet pour comprendre la cause et éviter les récidives.",
            "Ma mère a une polykystose rénale et sa fonction rénale est à 25 %. Nous voudrions l'avis d'un "
            "néphrologue pour ralentir la maladie et préparer la dialyse ou une greffe.",
        ],
    },
    "womens_health": {
        "en": [
            "I am 36 and have severe endometriosis with ovarian cysts. After two surgeries the pain is "
            "back, and we have been trying to conceive for three years. I would like a specialist opinion.",
            "I have large uterine fibroids causing heavy bleeding and anemia. My gynecologist recommends a "
            "hysterectomy, but I want to know whether a myomectomy is possible.",
            "I am 19 weeks pregnant with twins and the ultrasound shows twin-to-twin transfusion syndrome. "
            "Our doctor says fetal laser surgery is needed urgently. Can your team see us?",
        ],
        "es": [
            "Tengo 35 años y endometriosis profunda. Ya me operaron dos veces, el dolor volvió y llevamos "
            "tres años intentando embarazarnos. Quisiera la opinión de sus especialistas.",
            "Tengo miomas uterinos grandes que me causan sangrados abundantes y anemia. Mi ginecólogo "
            "recomienda quitar la matriz, pero quisiera saber si es posible una miomectomía.",
            "Estoy embarazada de 20 semanas y el ultrasonido mostró espina bífida en mi bebé. Nos hablaron "
            "de cirugía fetal y queremos saber si ustedes la realizan.",
        ],
        "ar": [
            "عمري أربعة وثلاثون عامًا ومصابة ببطانة الرحم المهاجرة، وأجريت عمليتين لكن الألم عاد، ولم يحدث "
            "حمل منذ ثلاث سنوات. أرغب في استشارة أخصائية لديكم.",
            "لديّ أورام ليفية كبيرة في الرحم تسبب نزيفًا شديدًا وفقر دم، وطبيبي ينصح باستئصال الرحم. أريد "
            "معرفة ما إذا كان يمكن إزالة الأورام فقط والحفاظ على الرحم.",
            "زوجتي حامل بتوأم في الأسبوع التاسع عشر، وأظهرت الأشعة متلازمة نقل الدم بين التوأمين. قال "
            "الطبيب إنها تحتاج إلى جراحة بالليزر للجنين بشكل عاجل، فهل يمكنكم استقبالها؟",
        ],
        "zh-Hans": [
            "我今年35岁，患有严重的子宫内膜异位症和巧克力囊肿，做过两次手术后又复发了，备孕三年也没成功。"
            "希望得到贵院专家的意见。",
            "我有多发性子宫肌瘤，月经量非常大，已经严重贫血。当地医生建议切除子宫，但我想保留子宫，"
            "请问能否做肌瘤剔除手术？",
            "我怀孕20周，B超发现胎儿有脊柱裂。医生提到可以做宫内胎儿手术，想了解贵院是否开展这项手术。",
        ],
        "pt-BR": [
            "Tenho 33 anos e endometriose profunda. Já operei duas vezes, a dor voltou e estamos tentando "
            "engravidar há três anos. Gostaria da opinião dos especialistas de vocês.",
            "Tenho miomas grandes no útero que causam sangramento intenso e anemia. Meu ginecologista quer "
            "tirar o útero, mas quero saber se é possível fazer só a miomectomia.",
            "Estou grávida de gêmeos, com 19 semanas, e o ultrassom mostrou síndrome de transfusão "
            "feto-fetal. O médico disse que precisamos de cirurgia a laser com urgência. Vocês podem nos "
            "atender?",
        ],
        "ru": [
            "Мне 34 года, у меня эндометриоз с кистами яичников. После двух операций боли вернулись, и уже "
            "три года не получается забеременеть. Хотела бы получить консультацию ваших специалистов.",
            "У меня крупные миомы матки, обильные кровотечения и анемия. Гинеколог предлагает удалить "
            "матку, но я хочу узнать, возможна ли миомэктомия с сохранением органа.",
            "Я на 20-й неделе беременности, на УЗИ у ребёнка обнаружили расщепление позвоночника. Нам "
            "сказали о внутриутробной операции. Проводите ли вы такие операции?",
        ],
        "fr": [
            "J'ai 34 ans et une endométriose sévère avec des kystes ovariens. Après deux opérations, les "
            "douleurs sont revenues et nous essayons d'avoir un enfant depuis trois ans. J'aimerais l'avis "
            "de vos spécialistes.",
            "J'ai de gros fibromes utérins qui provoquent des saignements abondants et une anémie. Mon "
            "gynécologue propose une hystérectomie, mais je voudrais savoir si une myomectomie est possible.",
            "Je suis enceinte de jumeaux à 19 semaines et l'échographie montre un syndrome "
            "transfuseur-transfusé. On nous parle d'une chirurgie laser fœtale en urgence. Pouvez-vous nous "
            "recevoir ?",
        ],
    },
    "endocrinology": {
        "en": [
            "My 16-year-old son has type 1 diabetes and his HbA1c stays above 10% despite insulin "
            "injections. We would like advice on insulin pumps and continuous glucose monitoring.",
            "An MRI found a small tumor in my pituitary gland and my cortisol levels are high. My "
            "endocrinologist suspects Cushing's disease and I would like an evaluation at your center.",
            "A thyroid biopsy came back suspicious for papillary cancer. I would like your endocrine team "
            "to review the slides and advise me on surgery and radioactive iodine.",
        ],
        "es": [
            "Mi hijo de 15 años tiene diabetes tipo 1 y la hemoglobina glicosilada sigue arriba de 10 %. "
            "Queremos orientación sobre bombas de insulina y monitoreo continuo de glucosa.",
            "Me encontraron un nódulo en la tiroides y la biopsia salió sospechosa de cáncer papilar. "
            "Quisiera que sus endocrinólogos revisaran el resultado antes de operarme.",
            "Tengo obesidad severa, diabetes tipo 2 y presión alta. Ya probé muchas dietas y medicamentos. "
            "Me gustaría saber si soy candidata a cirugía bariátrica o a algún tratamiento nuevo.",
        ],
        "ar": [
            "ابني عمره ستة عشر عامًا ومصاب بالسكري من النوع الأول، ونسبة السكر التراكمي لديه فوق ١٠٪ رغم "
            "حقن الإنسولين. نرغب في استشارة حول مضخة الإنسولين وجهاز المراقبة المستمرة للسكر.",
            "اكتُشفت لديّ عقدة في الغدة الدرقية، ونتيجة الخزعة تشير إلى احتمال سرطان حليمي. أرغب في أن "
            "يراجع أطباء الغدد الصماء لديكم النتيجة قبل إجراء العملية.",
            "أعاني من سمنة مفرطة وسكري من النوع الثاني وارتفاع في ضغط الدم، وجرّبت أدوية وحميات كثيرة دون "
            "فائدة. هل أنا مرشح لعملية تكميم المعدة أو لعلاج دوائي حديث؟",
        ],
        "zh-Hans": [
            "我儿子16岁，1型糖尿病，每天打胰岛素，但糖化血红蛋白一直在10%以上。"
            "想咨询一下胰岛素泵和动态血糖监测的方案。",
            "我体检发现甲状腺结节，穿刺结果怀疑是乳头状癌。希望贵院内分泌专家复核一下病理，"
            "再决定是否手术和做碘131治疗。",
            "我垂体上发现一个1.5厘米的瘤，皮质醇一直偏高，医生怀疑是库欣病。想到贵院做进一步评估和治疗。",
        ],
        "pt-BR": [
            "Meu filho de 15 anos tem diabetes tipo 1 e a hemoglobina glicada continua acima de 10 %. "
            "Queremos orientação sobre bomba de insulina e sensor de glicose contínuo.",
            "Descobri um nódulo na tireoide e a punção veio suspeita para carcinoma papilífero. Gostaria "
            "que os endocrinologistas de vocês revisassem o resultado antes da cirurgia.",
            "Tenho obesidade grave, diabetes tipo 2 e pressão alta, e já tentei de tudo. Quero saber se sou "
            "candidata à cirurgia bariátrica ou a algum tratamento novo.",
        ],
        "ru": [
            "Сыну 16 лет, у него сахарный диабет 1 типа, гликированный гемоглобин держится выше 10 %, "
            "несмотря на инсулин. Хотим получить консультацию по инсулиновой помпе и мониторингу глюкозы.",
            "У меня нашли узел щитовидной железы, по результатам пункции есть подозрение на папиллярный "
            "рак. Хотела бы, чтобы ваши эндокринологи пересмотрели стёкла до операции.",
            "У меня обнаружили аденому гипофиза и повышенный кортизол, эндокринолог подозревает болезнь "
            "Иценко — Кушинга. Хочу пройти обследование и лечение в вашем центре.",
        ],
        "fr": [
            "Mon fils de 16 ans a un diabète de type 1 et son hémoglobine glyquée reste au-dessus de 10 % "
            "malgré l'insuline. Nous voudrions des conseils sur la pompe à insuline et le capteur de "
            "glucose.",
            "On m'a découvert un nodule thyroïdien et la cytoponction est suspecte de carcinome papillaire. "
            "J'aimerais que vos endocrinologues revoient les résultats avant l'opération.",
            "J'ai une obésité sévère avec un diabète de type 2 et de l'hypertension, et j'ai tout essayé. "
            "Je voudrais savoir si je suis candidate à une chirurgie bariatrique ou à un nouveau traitement.",
        ],
    },
}

#: Invented hospitals and clinics of referring physicians, named in the country's language.
INSTITUTIONS: dict[str, list[str]] = {
    "SA": ["مستشفى النخيل التخصصي، الرياض", "المركز الطبي الجامعي بجدة", "مستشفى الواحة العام، الدمام"],
    "AE": ["مستشفى الخليج التخصصي، دبي", "مركز الريم الطبي، أبوظبي", "عيادات الشاطئ الطبية، الشارقة"],
    "KW": ["مستشفى اللؤلؤة التخصصي، حولي", "مركز السالمية الطبي", "المستشفى الأهلي العام، الفروانية"],
    "QA": ["مستشفى الدوحة التخصصي", "مركز الخليج الغربي الطبي", "عيادات الوكرة الطبية"],
    "EG": ["مستشفى النيل الجامعي، القاهرة", "مركز الإسكندرية الطبي التخصصي",
           "مستشفى الزهور التخصصي، المعادي"],
    "JO": ["مستشفى الزيتونة التخصصي، عمّان", "المركز الطبي الأردني الحديث", "مستشفى الشمال الجامعي، إربد"],
    "MX": ["Hospital San Rafael de Guadalajara", "Centro Médico del Norte, Monterrey",
           "Clínica Santa Fe de la Ciudad de México"],
    "CO": ["Hospital Universitario de Bogotá", "Clínica Los Andes de Medellín",
           "Centro Médico del Valle, Cali"],
    "AR": ["Sanatorio del Plata, Buenos Aires", "Clínica Mediterránea de Córdoba",
           "Centro Médico Rosario Norte"],
    "CL": ["Clínica Los Álamos, Santiago", "Hospital Regional del Biobío", "Centro Médico Viña del Mar"],
    "PE": ["Clínica San Gabriel de Lima", "Hospital Regional del Sur, Arequipa", "Centro Médico Miraflores"],
    "ES": ["Hospital Universitario del Turia, Valencia", "Clínica San Roque de Madrid",
           "Centre Mèdic Diagonal, Barcelona"],
    "BR": ["Hospital São Lucas da Paulista, São Paulo", "Clínica Santa Cecília, Rio de Janeiro",
           "Centro Médico Boa Vista, Recife"],
    "CN": ["北京华康医院", "上海浦江国际医疗中心", "广州南湖大学附属医院"],
    "RU": ["Городская клиническая больница № 57, Москва",
           "Медицинский центр «Невская клиника», Санкт-Петербург",
           "Областная клиническая больница, Екатеринбург"],
    "KZ": ["Городская клиническая больница № 9, Алматы", "Медицинский центр «Есиль», Астана",
           "Областная больница, Караганда"],
    "FR": ["Clinique des Tilleuls, Lyon", "Centre hospitalier universitaire de la Loire",
           "Hôpital privé du Parc, Marseille"],
    "MA": ["Clinique Al Andalous, Casablanca", "Centre hospitalier Ibn Khaldoun, Rabat",
           "Clinique Atlas, Marrakech"],
    "CI": ["Clinique de la Lagune, Abidjan", "Centre médical de Cocody", "Polyclinique de Yamoussoukro"],
    "GB": ["St Aldhelm's Hospital, Bristol", "North Thames University Hospital",
           "Riverside Clinic, Manchester"],
    "NG": ["Lagos Island Specialist Hospital", "Abuja Central Medical Centre",
           "Crestview Hospital, Port Harcourt"],
    "IN": ["Lotus Multispeciality Hospital, Pune", "Coromandel Heart Institute, Chennai",
           "Capital Care Hospital, New Delhi"],
    "CA": ["Harbourview Health Centre, Toronto", "Prairie Regional Hospital, Calgary",
           "Clinique médicale du Mont-Royal, Montréal"],
}

#: Referring physicians (invented).
PHYSICIANS: list[str] = [
    "Dr. Laila Haddad", "Dr. Omar Al-Farsi", "Dr. Ricardo Mendoza", "Dr. Ana Paula Ferreira", "Dr. Wei Zhang",
    "Dr. Elena Sokolova", "Dr. Pierre Lambert", "Dr. Aminata Diallo", "Dr. Rajesh Iyer", "Dr. Chinedu Okeke",
    "Dr. Sofía Castillo", "Dr. Youssef Benkirane", "Dr. Hannah Whitfield", "Dr. Mei Lin", "Dr. Dmitri Volkov",
    "Dr. Carmen Ibáñez", "Dr. Tariq Mansour", "Dr. Javier Ortega", "Dr. Fatima Al-Sayed",
    "Dr. Aigerim Nurlanova",
]

#: Demo staff accounts: (email, name, role, center keys, languages spoken).
STAFF: list[tuple[str, str, str, list[str], list[str]]] = [
    ("coordinator@itinera.example", "Maria González", "coordinator", ["cardiology", "digestive_health"],
     ["en", "es"]),
    ("layla.haddad@itinera.example", "Layla Haddad", "coordinator", ["neurology", "cancer"], ["en", "ar"]),
    ("jing.liu@itinera.example", "Jing Liu", "coordinator", ["cancer", "transplant"], ["en", "zh-Hans"]),
    ("beatriz.oliveira@itinera.example", "Beatriz Oliveira", "coordinator", ["orthopaedics", "pediatrics"],
     ["en", "pt-BR", "es"]),
    ("anna.petrova@itinera.example", "Anna Petrova", "coordinator", ["urology_kidney", "endocrinology"],
     ["en", "ru"]),
    ("karim.benali@itinera.example", "Karim Benali", "coordinator",
     ["womens_health", "pediatrics", "cardiology"], ["en", "fr", "ar"]),
    ("emily.carter@itinera.example", "Emily Carter", "coordinator", ["transplant", "endocrinology", "neurology"],
     ["en"]),
    ("manager@itinera.example", "David Chen", "manager", [], ["en", "zh-Hans"]),
    ("rachel.goldberg@itinera.example", "Rachel Goldberg", "manager", [], ["en", "es"]),
    ("admin@itinera.example", "Sam Okafor", "admin", [], ["en"]),
]

#: Internal notes a care coordinator writes on a case.
NOTES: list[str] = [
    "Called the patient's son; MRI discs will be couriered this week.",
    "Insurance precertification requested from GlobalCare.",
    "Visa invitation letter sent.",
    "Medical records received; pathology slides still missing.",
    "Asked the referring physician for the latest echocardiogram report.",
    "Medical interpreter booked for the first consultation.",
    "Embassy guarantee letter received; no deposit needed.",
    "Cost estimate sent to the family; waiting for their answer.",
    "Patient prefers WhatsApp and is best reached after 6 pm local time.",
    "Hotel near the hospital booked for the patient and one companion, 10 nights.",
    "Airport pickup arranged for the Tuesday morning arrival.",
    "Surgeon's review pending; he is back from vacation on Monday.",
    "Translated discharge summary sent to the referring physician.",
    "Records translated into English; originals kept in the chart.",
    "Deposit confirmed by Patient Financial Services.",
    "Family asked about special meals; dietary services informed.",
    "Left a voicemail; will try again tomorrow morning.",
    "Companion needs wheelchair assistance at the airport; airline notified.",
    "Second opinion report finalized and sent to the patient.",
    "Patient asked to postpone: visa appointment delayed by the consulate.",
]

#: Why a case moved into a stage, by stage.
STAGE_NOTES: dict[str, list[str]] = {
    "intake": [
        "Request reviewed; patient contacted and consent to share records obtained.",
        "Patient confirmed interest; intake questionnaire sent.",
        "Referral from the treating physician accepted for intake.",
    ],
    "records": [
        "Intake complete; imaging and pathology requested from the referring hospital.",
        "Records release signed; collecting reports and discs.",
        "Patient is uploading records through the portal.",
    ],
    "clinical_review": [
        "Records complete; sent to the specialist for review.",
        "All imaging loaded into PACS; awaiting physician review.",
        "Case added to the weekly multidisciplinary conference.",
    ],
    "financial_clearance": [
        "Physician accepted the case; cost estimate being prepared.",
        "Treatment plan approved; waiting for the insurer's guarantee letter.",
        "Clinical review done; deposit requested from the patient.",
    ],
    "scheduling": [
        "Deposit received; booking the appointments.",
        "Guarantee letter received; scheduling the surgery date.",
        "Financially cleared; coordinating clinic visit and pre-op tests.",
    ],
    "travel": [
        "Appointments confirmed; visa invitation letter issued.",
        "Dates set; patient is arranging flights and accommodation.",
        "Itinerary sent to the patient; airport pickup arranged.",
    ],
    "in_care": [
        "Patient arrived in Boston and checked in for the first appointment.",
        "Patient admitted for surgery.",
        "First consultation done; treatment has started.",
    ],
    "follow_up": [
        "Patient discharged and flew home; follow-up plan shared with the local doctor.",
        "Treatment completed; first follow-up call scheduled.",
        "Second opinion delivered; follow-up video visit planned.",
    ],
    "closed": [
        "Care completed and final summary sent; case closed.",
        "Patient chose to be treated at home; closing the case.",
        "No response after three attempts over 30 days; case closed.",
    ],
}
