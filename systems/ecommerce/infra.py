"""The shop's resources: every table, bucket, queue, topic, bus, pool, database and index it owns.

Declared here, apart from the wiring in ``app.py``, so the handler modules can import them
without importing the wiring (which imports the handlers).
"""

from __future__ import annotations

from stratus import App
from stratus.resources.api import Cors, HttpApi, Throttle
from stratus.resources.jwt_authorizer import JwtAuthorizer
from stratus.resources.queue import DeadLetter
from stratus.resources.table import GlobalIndex
from stratus.resources.userpool import AppClient

app = App("ecommerce", description="Amazon-like shop: catalog, carts, checkout saga, payments, search.")

# -- identity (Cognito) ------------------------------------------------------------------------
ADMIN_GROUP = "admin"
users = app.user_pool(
    "customers",
    groups=[ADMIN_GROUP],
    clients=[AppClient("web", scopes=["shop/orders"])],
    auto_confirm=False,  # sign-up emails a code; POST /auth/confirm confirms it
    username_attributes=["email"],
)
jwt = JwtAuthorizer(users, audience=["web"])

# -- the HTTP API (API Gateway) ----------------------------------------------------------------
api: HttpApi = app.http_api(
    "shop",
    cors=Cors(origins=["*"], headers=["authorization", "content-type", "idempotency-key"]),
    throttle=Throttle(rate=20_000, burst=40_000),
    description="The shop's REST API.",
)

# -- catalog (DynamoDB + S3 + ElastiCache + OpenSearch) ----------------------------------------
products = app.table(
    "products",
    partition_key="id",
    indexes=[GlobalIndex("by_category", partition_key="category", sort_key="id")],
    stream="NEW_AND_OLD_IMAGES",
)
uploads = app.bucket("uploads")  # originals, written by presigned PUTs
images = app.bucket("images")  # resized variants, served under /images (the CDN path)
product_cache = app.cache("product-cache", max_items=50_000, default_ttl=300)
catalog_search = app.search_index(
    "products",
    fields={
        "name": "text",
        "description": "text",
        "category": "keyword",
        "price": "number",
        "in_stock": "boolean",
        "currency": "keyword",
        "created_at": "date",
    },
)

# -- carts and checkout (DynamoDB) -------------------------------------------------------------
carts = app.table("carts", partition_key="customer_id")
idempotency = app.table("idempotency", partition_key="key", ttl_attribute="expires_at")
reservations = app.table(
    "reservations",
    partition_key="order_id",
    indexes=[GlobalIndex("by_status", partition_key="status", sort_key=("expires_at", "N"))],
)

# -- orders: the event store and its read models (event sourcing + CQRS) -----------------------
order_events = app.table("order-events", partition_key="order_id", sort_key=("seq", "N"), stream="NEW_IMAGE")
order_history = app.table("order-history", partition_key="customer_id", sort_key="sort_key")
sales_daily = app.table(
    "sales-daily",
    partition_key="product_id",
    sort_key="day",
    indexes=[GlobalIndex("by_day", partition_key="day", sort_key="product_id")],
)
projection_marks = app.table("projection-marks", partition_key="mark")
also_bought = app.table("also-bought", partition_key="product_id", sort_key="other_id")
notifications_inbox = app.table("notifications", partition_key="customer_id", sort_key="sort_key")

# -- payments (Aurora for the ledger, KMS for tokens, Secrets Manager for the provider) --------
ledger = app.sql("ledger", migrations="migrations/")
card_key = app.key("card-tokens", description="Encrypts the payment provider's card tokens.")
provider_secret = app.secret("payment-provider", description="The provider's URL and webhook signing secret.")
webhook_events = app.table("webhook-events", partition_key="event_id", ttl_attribute="expires_at")

# -- asynchronous order processing (EventBridge, SQS, SNS) -------------------------------------
bus = app.event_bus("shop", description="Order and inventory events.")
failed_payments = app.queue("failed-payments", retention=1_209_600)
payment_captures = app.queue(
    "payment-captures", visibility_timeout=60, dead_letter=DeadLetter(failed_payments, max_receive_count=3)
)
fulfilment_dlq = app.queue("order-processing-dlq", retention=1_209_600)
order_processing = app.queue(
    "order-processing", visibility_timeout=60, dead_letter=DeadLetter(fulfilment_dlq, max_receive_count=5)
)
# Cancellations and refunds: a settlement gives back what an order holds (stock, the authorization
# or the captured money); retried from this queue until it is done (the provider may be down).
settlements_dlq = app.queue("order-settlements-dlq", retention=1_209_600)
settlements = app.queue(
    "order-settlements", visibility_timeout=60, dead_letter=DeadLetter(settlements_dlq, max_receive_count=5)
)
notifications = app.topic("notifications")
operations = app.topic("operations")
OPS_EMAIL = "ops@shop.example"
operations.subscribe_email(OPS_EMAIL)

# -- batch -------------------------------------------------------------------------------------
reports = app.bucket("reports")
