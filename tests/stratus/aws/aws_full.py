"""A system declaring every kind of resource, to synthesize (never deployed)."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.resources.api import Cors, Throttle
from stratus.resources.event_bus import InputTransformer, Target
from stratus.resources.jwt_authorizer import JwtAuthorizer
from stratus.resources.queue import DeadLetter
from stratus.resources.table import GlobalIndex, LocalIndex
from stratus.resources.userpool import AppClient

app = App("awsfull", description="every kind")
products = app.table(
    "products",
    partition_key="id",
    sort_key=("version", "N"),
    indexes=[
        GlobalIndex("by-category", partition_key="category", sort_key=("price", "N"), projection=["name"]),
        LocalIndex("by-updated", sort_key=("updated", "N"), projection="KEYS_ONLY"),
    ],
    stream="NEW_IMAGE",
)
images = app.bucket("images", versioning=True)
dlq = app.queue("dlq")
jobs = app.queue("jobs", visibility_timeout=120, dead_letter=DeadLetter(dlq, 3))
ordered = app.queue("ordered.fifo", fifo=True, content_based_deduplication=True)
alerts = app.topic("alerts")
feed = app.topic("feed.fifo", fifo=True, content_based_deduplication=True)
bus = app.event_bus("domain")
bus.archive("everything", retention_days=7)
clicks = app.stream("clicks", shards=2, retention_hours=48)
tokens = app.secret("api-token", description="third-party token")
master = app.key("master", rotation=True)
db = app.sql("ledger")
cache = app.cache("sessions")
catalog = app.search_index("catalog", fields={"title": "text", "price": "number"})
pool = app.user_pool(
    "users",
    clients=[AppClient("web")],
    groups=["admins"],
    custom_attributes={"tier": "string"},
    username_attributes=["email"],
)
api = app.http_api(
    "public",
    cors=Cors(origins=["https://shop.example"], methods=["GET", "POST"], max_age=600),
    throttle=Throttle(100, 200),
)
jwt = JwtAuthorizer(pool, audience=["web"])
socket = app.websocket_api("live")
timer = app.scheduler("reminders")


@api.get("/products/{id}")
def get_product(request: Any, context: Any) -> dict[str, Any]:
    return {"item": products.get({"id": request.path_params["id"], "version": 1})}


@api.post("/orders", authorizer=jwt, scopes=["openid"], groups=["admins"], throttle=Throttle(5, 10))
def create_order(request: Any, context: Any) -> dict[str, Any]:
    jobs.send("order")
    db.execute("select 1")
    cache.set("k", 1)
    return {"ok": True}


@socket.route("$default")
def on_message(event: Any, context: Any) -> None:
    socket.post(event["requestContext"]["connectionId"], "pong")


@app.on_stream(
    products,
    starting_position="TRIM_HORIZON",
    bisect_on_error=True,
    retry_attempts=3,
    max_record_age=3600,
    on_failure=dlq,
    parallelization=2,
    tumbling_window=30,
    report_failures=True,
)
def index_product(event: Any, context: Any) -> None:
    for record in event.records:
        catalog.index(record.dynamodb.keys["id"], {"title": "x", "price": 1})


@app.on_stream(clicks, batch_size=500, batching_window=5, filters=[{"data": {"kind": ["click"]}}])
def count_clicks(event: Any, context: Any) -> None:
    master.encrypt(b"x")


@app.on_bucket(images, prefix="uploads/", suffix=".jpg")
def thumbnail(event: Any, context: Any) -> None:
    for record in event.records:
        data = images.get(record.s3.get_object.key)
        images.put("thumbs/x.jpg", data.body)


@app.on_queue(ordered, batch_size=10, max_concurrency=5, filters=[{"body": {"kind": ["x"]}}])
def drain(event: Any, context: Any) -> None:
    tokens.get()
    timer.create("once", "at(2030-01-01T00:00:00)", target=alerts)


@app.function(
    timeout=30,
    memory=512,
    reserved_concurrency=5,
    retries=1,
    max_event_age=600,
    on_success=alerts,
    on_failure=dlq,
    environment={"MODE": "prod"},
)
def charge(event: Any, context: Any) -> dict[str, Any]:
    return {"charged": True}


@app.on_topic(alerts, filter_policy={"severity": ["high"]}, filter_scope="MessageBody")
def page(event: Any, context: Any) -> None:
    clicks.put(b"x", partition_key="p")


@app.on_schedule("cron(0 9 * * ? *)", timezone="Europe/Paris")
def nightly(event: Any, context: Any) -> None:
    fulfil.start({"order": "o-1"})


fulfil = app.workflow(
    "fulfil",
    definition="workflows/fulfil.asl.json",
    substitutions={"ChargeFunction": charge, "AlertsTopic": alerts},
)
alerts.subscribe(jobs)
alerts.subscribe_email("ops@example.com")
feed.subscribe(ordered, raw=True)
bus.rule(
    "fanout",
    pattern={"source": ["shop"]},
    targets=[
        Target(jobs, input_transformer=InputTransformer("<id>", {"id": "$.detail.id"}), dead_letter=dlq),
        Target(alerts, input_path="$.detail"),
        Target(fulfil),
        Target(ordered, group_id="g"),
    ],
)
app.schedule("hourly-report", "rate(1 hour)", target=jobs, payload={"report": "hourly"}, dead_letter=dlq)
app.alarm("charge-errors", function=charge, metric="Errors", threshold=1, actions=[alerts], ok_actions=[page])


@api.default()
def fallback(request: Any, context: Any) -> dict[str, Any]:
    return {"missing": request.path}
