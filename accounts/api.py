"""POST /api/auth/token/: a username and password (through authenticate(), so django-axes counts
failures) for a new expiring API token. The key is in this answer only; the database keeps its digest."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from accounts.tokens import api_token_issue


class ApiTokenObtain(ObtainAuthToken):
    @extend_schema(responses=inline_serializer("ApiToken", {"token": serializers.CharField(),
                                                            "expires_at": serializers.DateTimeField()}),
                   summary="Exchange a username and password for an API token that expires (API_TOKEN_DAYS)")
    def post(self, request, *args, **kwargs):
        credentials = self.serializer_class(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        key, token = api_token_issue(credentials.validated_data["user"])
        return Response({"token": key, "expires_at": token.expires_at})
