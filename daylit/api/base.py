"""What every company-scoped endpoint shares: membership resolution and query-parameter parsing."""

from rest_framework import generics, serializers

from daylit.api.query import validated_query
from daylit.api.strict import json_type_errors
from daylit.errors import NotFound
from daylit.models import Company, Member
from daylit.pagination import CountPagePagination


def resolve_membership(*, user, company_id) -> Member:
    """The caller's Member in that company; a company the caller is not in does not exist (404)."""
    member = Member.objects.select_related("company", "user").filter(company_id=company_id, user=user).first()
    if member is None:
        raise NotFound("Company not found.")
    return member


class CompanyScopedAPIView(generics.GenericAPIView):
    """Base for views under /api/companies/{company_id}/: sets `self.company` and `self.member`.

    Authentication (401) runs first; then membership, whose absence is a 404 so non-members learn
    nothing about the company.
    """

    pagination_class = CountPagePagination
    company: Company
    member: Member

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.member = resolve_membership(user=request.user, company_id=kwargs["company_id"])
        self.company = self.member.company

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["company"] = getattr(self, "company", None)
        context["member"] = getattr(self, "member", None)
        return context

    def parse_query(self, serializer_class: type[serializers.Serializer]) -> dict:
        """Validate query parameters like a body: a bad filter is a 400 naming the parameter."""
        return validated_query(self.request.query_params, serializer_class, self.get_serializer_context())

    def parse_body(self, serializer_class: type[serializers.Serializer], **kwargs) -> dict:
        """Validate the JSON body: wrong JSON types first (DRF would coerce them), then the serializer."""
        body = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        type_errors = json_type_errors(body.fields, self.request.data)
        if type_errors:
            raise serializers.ValidationError(type_errors)
        body.is_valid(raise_exception=True)
        return body.validated_data

    def paginated(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            serializer_class(page, many=True, context=self.get_serializer_context()).data
        )


class CompanyScopedField(serializers.PrimaryKeyRelatedField):
    """A UUID in a body that must belong to the request's company; any other id does not exist."""

    def __init__(self, model, *, blank_is_null: bool = False, **kwargs):
        self.model = model
        # The reference API clears a sequence's sender with "" as well as null; elsewhere "" is no id.
        self.blank_is_null = blank_is_null
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(queryset=model.objects.none(), **kwargs)

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for any nullable relation; here that takes `blank_is_null`.
        if data == "" and not self.blank_is_null:
            raise serializers.ValidationError("Must be a valid UUID.", code="invalid")
        return super().run_validation(data)

    def get_queryset(self):
        company = self.context.get("company")
        if company is None:
            return self.model.objects.none()
        return self.model.objects.filter(company=company)
