"""The e-commerce platform, as the seeds draw it.

    API Gateway ──> Lambda functions ──> DynamoDB (products, carts, order events, read models)
                        │
                        ├─> Step Functions (checkout saga) ──> EventBridge (OrderPlaced)
                        ├─> SQS ──> Lambda (payment capture ─> order processing), with DLQs
                        ├─> SQS ──> Lambda (settling cancellations: restock, void or refund), with a DLQ
                        ├─> SNS ──> Lambda / email / SMS (notifications)
                        └─> S3 (product images: presigned uploads ─> resized variants)
    DynamoDB Streams ──> search index (OpenSearch), cache invalidation (ElastiCache), low-stock events
    Aurora (SQL): the payments ledger · KMS: card tokens · Cognito: customers and admins
    EventBridge Scheduler: reservation expiry, the nightly sales report (S3)

Resources are declared in :mod:`systems.ecommerce.infra`; this file binds the functions to
them: the routes, the event sources, the workflow and the schedules. Read top to bottom,
it is the architecture.
"""

from __future__ import annotations

from typing import Any

from stratus.resources.api import RouteCache
from stratus.resources.event_bus import Target
from systems.ecommerce import (
    auth_api,
    cancellations,
    carts,
    catalog,
    checkout,
    fulfilment,
    inventory,
    notify,
    orders_api,
    payments_api,
    product_feed,
    product_images,
    projections,
    provider_client,
    recommend,
    reports,
    search,
)
from systems.ecommerce.infra import (
    ADMIN_GROUP,
    api,
    app,
    bus,
    jwt,
    operations,
    order_events,
    order_processing,
    payment_captures,
    products,
    settlements,
    uploads,
)
from systems.ecommerce.models import (
    CartUpdate,
    ConfirmSignUp,
    EmailOnly,
    ImageUpload,
    ListQuery,
    NewCard,
    NewOrder,
    NewProduct,
    PageQuery,
    ProductChange,
    Refresh,
    RefundRequest,
    ResetPassword,
    SearchQuery,
    SignIn,
    SignUp,
    StockChange,
)
from systems.ecommerce.web import customer_id

__all__ = ["app"]

ADMIN: dict[str, Any] = {"authorizer": jwt, "groups": [ADMIN_GROUP], "tags": ["admin"]}
CUSTOMER: dict[str, Any] = {"authorizer": jwt, "tags": ["customer"]}

# -- API Gateway → Lambda: identity ------------------------------------------------------------
api.post("/auth/sign-up", request=SignUp, status=201, tags=["auth"])(auth_api.sign_up)
api.post("/auth/confirm", request=ConfirmSignUp, tags=["auth"])(auth_api.confirm)
api.post("/auth/resend-code", request=EmailOnly, status=202, tags=["auth"])(auth_api.resend_code)
api.post("/auth/sign-in", request=SignIn, tags=["auth"])(auth_api.sign_in)
api.post("/auth/refresh", request=Refresh, tags=["auth"])(auth_api.refresh)
api.post("/auth/forgot-password", request=EmailOnly, status=202, tags=["auth"])(auth_api.forgot_password)
api.post("/auth/reset-password", request=ResetPassword, tags=["auth"])(auth_api.reset_password)

# -- API Gateway → Lambda → DynamoDB / ElastiCache / OpenSearch / S3: the catalog --------------
api.get("/products", query=ListQuery, tags=["catalog"])(catalog.list_products)
api.get("/products/{id}", cache=RouteCache(ttl=catalog.PAGE_TTL, key=["path.id"]), tags=["catalog"])(
    catalog.get_product
)
api.get("/categories", tags=["catalog"])(catalog.list_categories)
api.get("/search", query=SearchQuery, tags=["catalog"])(search.search_products)
api.get("/images/{product_id}/{image_id}/{variant}", tags=["catalog"])(product_images.serve_image)
api.post("/products", request=NewProduct, status=201, **ADMIN)(catalog.create_product)
api.patch("/products/{id}", request=ProductChange, **ADMIN)(catalog.update_product)
api.delete("/products/{id}", **ADMIN)(catalog.delete_product)
api.put("/products/{id}/stock", request=StockChange, **ADMIN)(catalog.set_stock)
api.post("/products/{id}/images", request=ImageUpload, status=201, **ADMIN)(product_images.request_upload)

# -- API Gateway → Lambda: carts, orders, payment methods (each customer sees only their own) ----
api.get("/cart", **CUSTOMER)(carts.get_cart)
api.put("/cart", request=CartUpdate, **CUSTOMER)(carts.put_cart)
api.get("/orders", query=PageQuery, **CUSTOMER)(orders_api.list_orders)
api.get("/orders/{id}", **CUSTOMER)(orders_api.get_order)
api.post("/orders/{id}/cancel", **CUSTOMER)(cancellations.cancel_order)  # the order's customer, or an admin
api.post("/orders/{id}/refund", request=RefundRequest, **ADMIN)(cancellations.refund_order)
api.post("/payment-methods", request=NewCard, status=201, **CUSTOMER)(payments_api.add_card)
api.get("/payment-methods", **CUSTOMER)(payments_api.list_cards)


@api.get("/me/notifications", **CUSTOMER)
def my_notifications(request: Any, context: Any) -> dict[str, Any]:
    return {"items": notify.inbox(customer_id(request))}


# -- the payment provider's webhooks (signed; no user) -----------------------------------------
api.post("/webhooks/payments", tags=["payments"])(payments_api.provider_webhook)

# -- operations (admins) -----------------------------------------------------------------------
rebuild_read_models = app.function(name="rebuild_read_models", timeout=900)(projections.rebuild)
redrive_failed_payments = app.function(name="redrive_failed_payments", timeout=60)(fulfilment.redrive_failed_payments)


@api.post("/admin/read-models/rebuild", **ADMIN)
def rebuild_route(request: Any, context: Any) -> dict[str, Any]:
    return projections.rebuild()


api.post("/admin/failed-payments/redrive", status=202, **ADMIN)(fulfilment.redrive_route)
redrive_failed_settlements = app.function(name="redrive_failed_settlements", timeout=60)(
    cancellations.redrive_settlements
)


@api.post("/admin/failed-settlements/redrive", status=202, **ADMIN)
def redrive_settlements_route(request: Any, context: Any) -> dict[str, Any]:
    return cancellations.redrive_settlements()


# -- Step Functions: the checkout saga ---------------------------------------------------------
steps = {
    "ValidateOrder": app.function(name="validate_order", timeout=10)(checkout.validate_order),
    "ReserveInventory": app.function(name="reserve_inventory", timeout=10)(checkout.reserve_inventory),
    "AuthorizePayment": app.function(name="authorize_payment", timeout=30)(checkout.authorize_payment),
    "ConfirmOrder": app.function(name="confirm_order", timeout=10)(checkout.confirm_order),
    "VoidPayment": app.function(name="void_payment", timeout=30)(checkout.void_payment),
    "ReleaseInventory": app.function(name="release_inventory", timeout=10)(checkout.release_inventory),
    "FailOrder": app.function(name="fail_order", timeout=10)(checkout.fail_order),
}
checkout_workflow = app.workflow(
    "checkout", definition="workflows/checkout.asl.json", substitutions={**steps, "ShopBus": bus}
)
# POST /orders starts the saga: declared here, after the workflow it uses (the template gives the
# function the workflow's identity and states:StartExecution from ``uses``).
api.post("/orders", request=NewOrder, status=202, uses=[checkout_workflow], **CUSTOMER)(orders_api.place_order)

# -- DynamoDB Streams → Lambda: search index, cache, inventory events; the read models ----------
app.on_stream(products, starting_position="TRIM_HORIZON", batch_size=100)(product_feed.on_product_change)
app.on_stream(order_events, starting_position="TRIM_HORIZON", batch_size=100)(projections.on_order_events)
app.on_stream(
    order_events,
    starting_position="TRIM_HORIZON",
    batch_size=100,
    filters=[{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": list(cancellations.PUBLISHED)}}}}],
)(cancellations.publish_order_events)

# -- S3 → Lambda: image variants ---------------------------------------------------------------
app.on_bucket(uploads, prefix="uploads/")(product_images.process_upload)

# -- EventBridge → SQS → Lambda (order processing), → Lambda (recommendations, notifications) ----
bus.rule(
    "capture-placed-orders",
    pattern={"source": ["shop.orders"], "detail-type": ["OrderPlaced"]},
    targets=[Target(payment_captures)],
)
app.on_queue(payment_captures, report_failures=True, batch_size=10)(fulfilment.capture_payments)
app.on_queue(order_processing, report_failures=True, batch_size=10)(fulfilment.process_orders)
app.on_event(bus, pattern={"source": ["shop.orders"], "detail-type": ["OrderPlaced"]})(recommend.on_order_placed)
app.on_event(
    bus,
    pattern={"detail-type": ["OrderPlaced", "OrderFailed", "OrderShipped", "OrderCancelled", "OrderRefunded"]},
    name="notify-customers",
)(notify.on_order_event)

# -- SQS → Lambda: settling cancellations and refunds (retried until the provider has done it) ---
app.on_queue(settlements, report_failures=True, batch_size=10)(cancellations.settle_messages)

# -- EventBridge → SNS: inventory alerts to operations (email) ---------------------------------
bus.rule("inventory-alerts", pattern={"source": ["shop.inventory"]}, targets=[Target(operations)])


# -- schedules ---------------------------------------------------------------------------------
@app.on_schedule("rate(1 minute)")
def expire_reservations(event: Any, context: Any) -> dict[str, int]:
    return {"released": inventory.expire_due()}


app.on_schedule("cron(0 2 * * ? *)")(reports.nightly_sales_report)

# -- local stand-ins for third parties ---------------------------------------------------------
app.on_startup(provider_client.start_local_provider)
app.on_shutdown(provider_client.stop_local_provider)
