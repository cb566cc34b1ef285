from django.urls import path

from daylit.api import views

urlpatterns = [
    path("settings", views.CompanySettingsView.as_view(), name="company-settings"),
    path("customers", views.CustomerListCreateView.as_view(), name="customer-list"),
    path("customers/<uuid:customer_id>", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("invoices", views.InvoiceListCreateView.as_view(), name="invoice-list"),
    path("invoices/<uuid:invoice_id>", views.InvoiceDetailView.as_view(), name="invoice-detail"),
]
