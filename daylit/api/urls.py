from django.urls import path

from daylit.api import promise_views, views

urlpatterns = [
    path("settings", views.CompanySettingsView.as_view(), name="company-settings"),
    path("customers", views.CustomerListCreateView.as_view(), name="customer-list"),
    path("customers/<uuid:customer_id>", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("invoices", views.InvoiceListCreateView.as_view(), name="invoice-list"),
    path("invoices/<uuid:invoice_id>", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path(
        "invoices/<uuid:invoice_id>/promises",
        promise_views.InvoicePromiseCreateView.as_view(),
        name="invoice-promise-create",
    ),
    path(
        "invoices/<uuid:invoice_id>/disputes",
        promise_views.InvoiceDisputeCreateView.as_view(),
        name="invoice-dispute-create",
    ),
    path("promises", promise_views.PromiseListView.as_view(), name="promise-list"),
    path("promises/<uuid:promise_id>", promise_views.PromiseDetailView.as_view(), name="promise-detail"),
    path(
        "promises/<uuid:promise_id>/cancel", promise_views.PromiseCancelView.as_view(), name="promise-cancel"
    ),
    path("disputes", promise_views.DisputeListView.as_view(), name="dispute-list"),
    path("disputes/<uuid:dispute_id>", promise_views.DisputeDetailView.as_view(), name="dispute-detail"),
    path(
        "disputes/<uuid:dispute_id>/resolve",
        promise_views.DisputeResolveView.as_view(),
        name="dispute-resolve",
    ),
]
