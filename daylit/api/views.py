from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.response import Response

from daylit import selectors, services
from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from daylit.api.serializers import CustomerFilters, CustomerSerializer, InvoiceFilters, InvoiceSerializer
from daylit.models import Customer, Invoice


class CustomerListCreateView(CompanyScopedAPIView):
    serializer_class = CustomerSerializer

    @list_schema(CustomerSerializer, CustomerFilters)
    def get(self, request, company_id):
        filters = self.parse_query(CustomerFilters)
        return self.paginated(
            selectors.customer_list(company=self.company, filters=filters), CustomerSerializer
        )

    def post(self, request, company_id):
        data = self.parse_body(CustomerSerializer)
        customer = services.customer_create(company=self.company, **data)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailView(CompanyScopedAPIView):
    serializer_class = CustomerSerializer

    def get_object(self):
        return get_object_or_404(Customer, pk=self.kwargs["customer_id"], company=self.company)

    def get(self, request, company_id, customer_id):
        return Response(CustomerSerializer(self.get_object()).data)

    def patch(self, request, company_id, customer_id):
        customer = self.get_object()
        data = self.parse_body(CustomerSerializer, instance=customer, partial=True)
        customer = services.customer_update(customer=customer, data=data)
        return Response(CustomerSerializer(customer).data)


class InvoiceListCreateView(CompanyScopedAPIView):
    serializer_class = InvoiceSerializer

    @list_schema(InvoiceSerializer, InvoiceFilters)
    def get(self, request, company_id):
        filters = self.parse_query(InvoiceFilters)
        return self.paginated(
            selectors.invoice_list(company=self.company, filters=filters), InvoiceSerializer
        )

    def post(self, request, company_id):
        data = self.parse_body(InvoiceSerializer)
        invoice = services.invoice_create(company=self.company, **data)
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class InvoiceDetailView(CompanyScopedAPIView):
    serializer_class = InvoiceSerializer

    def get_object(self):
        return get_object_or_404(Invoice, pk=self.kwargs["invoice_id"], company=self.company)

    def get(self, request, company_id, invoice_id):
        return Response(InvoiceSerializer(self.get_object()).data)

    def patch(self, request, company_id, invoice_id):
        invoice = self.get_object()
        data = self.parse_body(InvoiceSerializer, instance=invoice, partial=True)
        invoice = services.invoice_update(invoice=invoice, data=data)
        return Response(InvoiceSerializer(invoice).data)
