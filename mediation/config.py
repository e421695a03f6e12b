"""Defaults only. Secrets and the database URL come from ``instance/config.py``
or ``MEDIATION_*`` environment variables (see README)."""
from datetime import timedelta


class Config:
    # "development" or "production"; production refuses to start without a
    # configured SECRET_KEY and refuses the demo loader.
    ENV = "development"
    # Empty means: SQLite at instance/mediation.sqlite.
    DATABASE_URL = ""
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")

    # Serve Bootstrap from the installed package: deployments may have no internet.
    BOOTSTRAP_SERVE_LOCAL = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # None: Secure when ENV is production or PREFERRED_URL_SCHEME is https (create_app decides).
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_SECURE = None
    # Logged out after this many minutes without a request (env MEDIATION_IDLE_TIMEOUT_MINUTES).
    MEDIATION_IDLE_TIMEOUT_MINUTES = 30
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = 0

    # Failed-login throttling, per username and per client address.
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_MAX_FAILURES_PER_USERNAME = 10
    LOGIN_MAX_FAILURES_PER_ADDRESS = 50
    # Related-case checks (related/views.py) per user per LOGIN_WINDOW_MINUTES: an intake form
    # checks as its parties are typed, a few dozen times; a crawl of ID numbers needs thousands.
    RELATED_CHECKS_PER_WINDOW = 300

    # Case numbers: （2026）金坛婚调字第0001号, unique per station and year.
    CASE_NUMBER_PREFIX = "金坛婚调字"
    CASE_NUMBER_FORMAT = "（{year}）{prefix}第{seq:04d}号"
    # Mediation should generally end within this many days of acceptance (2002 rules art. 33).
    MEDIATION_TIME_LIMIT_DAYS = 30
    CASES_PER_PAGE = 20
    # Counts on lists, the home page and search stop here: more shows as "1,000+" (paging.py).
    COUNT_BOUND = 1000
    # Search (mediation/search/services.py): a query matching more than SEARCH_COMMON_PIECES
    # pieces of text in the whole index (a common character) is looked for case by case in the
    # newest SEARCH_SCAN_CASES cases of the user's area instead of through the index.
    SEARCH_COMMON_PIECES = 2000
    SEARCH_SCAN_CASES = 20_000
    # How long a worker remembers whether a query is common and, per user, where a common
    # query's walk stops (both are counted again after).
    SEARCH_MEMO_SECONDS = 300
    # Judicial confirmation: apply within this many days of the agreement (PML 33);
    # the case page reminds from this many days before the end.
    JUDICIAL_CONFIRMATION_DAYS = 30
    JUDICIAL_CONFIRMATION_REMIND_DAYS = 10
    # Printed on the written agreement (empty: left out).
    AGREEMENT_EFFECT_CLAUSE = ("本协议自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章"
                               "之日起生效。")
    AGREEMENT_CONFIRMATION_NOTE = ("双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认"
                                   "（《人民调解法》第三十三条）。")
    # 保管期限 printed on the case-file cover.
    CASE_FILE_RETENTION = "长期"
    # Follow-up visits proposed after settlement, in days from the conclusion.
    FOLLOW_UP_PLAN_DAYS = (7, 30, 90)
    # The committee named on printed documents; empty: "<holding unit>人民调解委员会".
    COMMITTEE_NAME = ""

    # Escalation: suggest it after this many sessions without settlement at a tier
    # (Jiangyin's "331": 3 in the village, 3 in the town); a tier left out is never advised.
    ESCALATION_AFTER_SESSIONS = {"village": 3, "platform": 3}
    # A transfer waiting longer than this is flagged to the receiving unit and its parent.
    TRANSFER_DEADLINE_DAYS = 3
    # The inbox looks for things coming due at most this often per session (seconds).
    INBOX_SYNC_SECONDS = 300
    # A look reads what came due since the user's last look, at most this many days back
    # (a first look, or one after a long absence); the case lists show the rest.
    INBOX_SYNC_LOOKBACK_DAYS = 60
    # ... and what changed since a little before the last look (a transaction still open
    # then, app servers' clocks a little apart).
    INBOX_SYNC_MARGIN_SECONDS = 600
    # Sessions planned within this many days show in the inbox.
    INBOX_PLANNED_DAYS = 7
    # Where notifications go besides the in-app inbox: import paths of classes with a
    # ``send(user, notification)`` method (e.g. an SMS gateway). Empty: in-app only.
    NOTIFY_CHANNELS = ()

    # One tap, one record (mediation/submissions.py): a form's submission key is kept this
    # many hours, so that a form sent again (a double tap, a retry) within them is saved once.
    SUBMISSION_KEY_HOURS = 24

    # Retention: archived cases are anonymised this many years after archiving, unless their
    # category sets its own period or the case is on legal hold (env MEDIATION_RETENTION_YEARS).
    MEDIATION_RETENTION_YEARS = 10
    # Party ID numbers are encrypted with ID_ENCRYPTION_KEYS (Fernet keys, the first encrypts)
    # and matched by an HMAC with ID_HASH_KEY. Empty: generated into instance/ in development;
    # required in production (see README, Security and privacy).
    ID_ENCRYPTION_KEYS = ""
    ID_HASH_KEY = ""

    # Attachments: stored under instance/uploads unless UPLOAD_FOLDER names another place.
    UPLOAD_FOLDER = ""
    MAX_UPLOAD_BYTES = 10 * 2**20
    MAX_CONTENT_LENGTH = 12 * 2**20  # a larger request is refused before it is read
    # Photos with more pixels are refused (a phone photo has 12–50 million): decoding a
    # "decompression bomb" (a small PNG of 13000×13000) would take gigabytes.
    MAX_IMAGE_PIXELS = 60_000_000
    # Pages of an uploaded PDF (a scan has a few; thousands would stall every case-file print).
    MAX_PDF_PAGES = 200

    # JSON API (/api/v1, README "API"): bearer attempts with a wrong token counted per address
    # in the login window; webhooks (a list of {"name", "url", "secret", "user", "events"?}),
    # posted by `flask api deliver`, retried after 30 s, 60 s, ... up to an hour.
    API_MAX_FAILURES_PER_ADDRESS = 50
    API_WEBHOOKS = ()
    API_WEBHOOK_TIMEOUT_SECONDS = 10
    API_WEBHOOK_RETRY_BASE_SECONDS = 30
    API_WEBHOOK_RETRY_MAX_SECONDS = 3600
    API_PAGE_SIZE = 20

    PASSWORD_MIN_LENGTH = 10
    # Werkzeug's method string; tests use a cheaper scrypt cost.
    PASSWORD_HASH_METHOD = "scrypt"
