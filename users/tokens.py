"""Tokens over HTTP: ``POST /api/auth/token`` (email and password in, a new token out), and the
caller's own tokens at ``GET /api/auth/tokens`` and ``DELETE /api/auth/tokens/{id}``.

A token is asked for with the account's client, address and password: an address is unique
within a client only, so the client names the one account meant, and no answer depends on
accounts of other clients. Operators' (staff) accounts get tokens from ``create_api_user``
only. Failed attempts are counted per caller address (an IPv6 one by its /64) and per account,
each in a sliding window (``API_LOGIN_FAILURES_PER_ADDRESS``,
``API_LOGIN_FAILURES_PER_ACCOUNT``); past either limit every attempt fails, the right password
too, with the same answer and after the same work as a wrong one: a guesser learns nothing from
the lockout, and the account's owner gets in again once the window has moved on. The endpoint
is also counted against the anonymous request limit like any unauthenticated request.

Deleting a token revokes it as any change to a token does (``users.authentication``): the very
next request, in every process, is refused.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from core import metrics
from core.api.exceptions import Conflict
from core.api.grammar import StrictBigIntegerField, StrictCharField, TimestampField
from core.api.params import check_parameter_names
from core.api.serializers import KnownFieldsOnly
from core.api.throttling import (
    AnonymousThrottle,
    CountsFailedAuthentication,
    SlidingWindowThrottleMixin,
)
from core.db.router import primary_first
from core.db.state import identify
from users.backends import accounts_matching
from users.models import ApiToken

logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "Wrong email or password."
QUERY_PARAMETERS = frozenset({"format"})


class FailedLogins(SlidingWindowThrottleMixin, SimpleRateThrottle):
    """Failed attempts of one kind of key (an address, an account) in a sliding window."""

    def __init__(self, setting: str, scope: str) -> None:
        self.setting, self.scope = setting, scope
        super().__init__()

    def get_rate(self) -> str | None:
        return getattr(settings, self.setting) or None

    def _key(self, ident: str) -> str:
        return f"login-failures:{self.scope}:{ident}"

    def attempt(self, ident: str) -> bool:
        """Count an attempt; whether it is past the limit."""
        return self._count(ident, 1, check=True)

    def take_back(self, ident: str) -> None:
        """A successful attempt is not a failure."""
        self._count(ident, -1, check=False)

    def _count(self, ident: str, delta: int, *, check: bool) -> bool:
        if self.rate is None:
            return False
        key = self._key(ident)
        try:
            self._add(self._windows(key)[0], delta)
            return check and self.used(key) > self.num_requests
        except Exception:  # any cache backend's error: as the request limits, not counted
            logger.warning("rate-limit cache unavailable; a login attempt not counted")
            metrics.count(metrics.CACHE_ERRORS, "throttle")
            return False


def account_ident(client_id: int, email: str) -> str:
    # Keyed by SECRET_KEY: the counter's name says nothing about the address to whoever reads
    # the cache.
    return salted_hmac("login-failures", f"{client_id}:{email}", algorithm="sha256").hexdigest()


class TokenSerializer(serializers.ModelSerializer):
    """One of the caller's tokens (its key is shown once, when it is made)."""

    expired = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField(
        help_text="Whether this request was authenticated with this token."
    )

    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created_at", "expires_at", "expired", "current")
        read_only_fields = fields

    def get_expired(self, token: ApiToken) -> bool:
        return token.expired(self.context.get("now"))

    def get_current(self, token: ApiToken) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == token.pk


@extend_schema_serializer(many=False)  # the list's answer is this object, not a list of them
class TokenListSerializer(serializers.Serializer):
    """The caller's tokens, oldest first."""

    tokens = TokenSerializer(many=True)


class TokenRequestSerializer(KnownFieldsOnly, serializers.Serializer):
    """An account's address and password, and the new token's name and expiry."""

    email = StrictCharField(max_length=254, trim_whitespace=False)
    password = StrictCharField(max_length=128, trim_whitespace=False)
    name = StrictCharField(
        max_length=100, required=False, default="default", help_text="To tell tokens apart."
    )
    expires_at = TimestampField(
        required=False,
        allow_null=True,
        default=None,
        help_text="An RFC 3339 time in the future after which the token is refused; none: never.",
    )
    client_id = StrictBigIntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="The account's client (an address is unique within a client, not across the "
        "platform): the client_id of the account, as its admin sees it.",
    )

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class IssuedTokenSerializer(TokenSerializer):
    """A new token, with its key (the schema of ``POST /api/auth/token``'s answer)."""

    token = serializers.CharField(help_text="The key: shown this once, only its digest is kept.")
    user = inline_serializer(
        "TokenUser",
        {
            "id": serializers.IntegerField(),
            "email": serializers.EmailField(),
            "client_id": serializers.IntegerField(),
            "role": serializers.CharField(),
        },
    )

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token", "user")
        read_only_fields = fields


class TokenObtainView(APIView):
    """``POST /api/auth/token``: an email address and its password make a new token."""

    authentication_classes = ()  # whoever asks, with whatever header: the body decides
    queryset = ApiToken.objects.none()  # what it makes (the schema-driven tests read it)
    permission_classes = (AllowAny,)
    throttle_classes = (AnonymousThrottle,)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        check_parameter_names(request, QUERY_PARAMETERS)

    def get_authenticate_header(self, request) -> str:
        # A 401 says how to authenticate (RFC 9110): the token this endpoint hands out.
        return 'Bearer realm="api"'

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={
            201: IssuedTokenSerializer,
            400: OpenApiResponse(description="A field refused (named)."),
            401: OpenApiResponse(
                description="Wrong email or password (or too many failed attempts: the same "
                "answer)."
            ),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        given = TokenRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        # Built per request: the limits are the settings of the moment.
        per_address = FailedLogins("API_LOGIN_FAILURES_PER_ADDRESS", "address")
        per_account = FailedLogins("API_LOGIN_FAILURES_PER_ACCOUNT", "account")
        email = data["email"].lower()  # as stored (users.serializers)
        address = per_address.get_ident(request)
        account = account_ident(data["client_id"], email)
        # Counted before the check (taken back on success): concurrent guesses all count.
        locked = per_address.attempt(address) | per_account.attempt(account)
        # The password is checked whatever the lockout: the same work either way. One account
        # at most: the client's, by its address (unique per client); operators' accounts get
        # their tokens from the create_api_user command, never here.
        matching = accounts_matching(
            data["password"],
            client_id=data["client_id"],
            client__active=True,
            email=email,
            is_staff=False,
            is_superuser=False,
        )
        if locked:
            metrics.count(metrics.RATE_LIMITED, "login")
        if locked or not matching:
            raise exceptions.AuthenticationFailed(
                {"detail": WRONG_CREDENTIALS, "fields": ["email", "password"]}
            )
        per_address.take_back(address)
        per_account.take_back(account)
        [user] = matching
        # Expired tokens make room (refused anyway): a job asking for a short-lived token on
        # every run is never stopped by the limit.
        ApiToken.objects.using("default").filter(user=user, expires_at__lte=timezone.now()).delete()
        if (
            ApiToken.objects.using("default").filter(user=user).count()
            >= settings.API_TOKENS_PER_USER
        ):
            raise Conflict(
                f"You have {settings.API_TOKENS_PER_USER} tokens: delete one first "
                "(DELETE /api/auth/tokens/{id}).",
                fields=["name"],
            )
        # The token is this user's write: their next requests read it (and the account, which
        # may have just been made) from a server that has it (read-your-writes).
        identify(user.pk)
        token, key = ApiToken.issue(user=user, name=data["name"], expires_at=data["expires_at"])
        body = {
            **TokenSerializer(token, context={"request": request}).data,
            "token": key,
            "user": {
                "id": user.pk, "email": user.email, "client_id": user.client_id, "role": user.role
            },
        }  # fmt: skip
        # The key is in this answer only: no cache keeps it.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class TokenViewSet(CountsFailedAuthentication, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own tokens (read on the primary: one just made, or just deleted)."""

    queryset = ApiToken.objects.all()  # narrowed to the caller's own by get_queryset
    serializer_class = TokenSerializer
    permission_classes = (IsAuthenticated,)
    pagination_class = None
    filter_backends = ()
    lookup_value_regex = r"[0-9]{1,18}"

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        check_parameter_names(request, QUERY_PARAMETERS)

    def get_queryset(self):
        return (
            ApiToken.objects.using("default")
            .filter(user=self.request.user)
            .order_by("created_at", "id")
        )

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        responses=TokenListSerializer,
        tags=["auth"],
    )
    def list(self, request, *args, **kwargs):
        tokens, _ = primary_first(lambda alias: list(self.get_queryset().using(alias)))
        return Response({"tokens": self.get_serializer(tokens, many=True).data})

    @extend_schema(
        tags=["auth"],
        responses={204: None, 404: OpenApiResponse(description="Not yours or not there.")},
    )
    def destroy(self, request, *args, **kwargs):
        # One statement on the primary: another user's token is not found, and of concurrent
        # deletes of one token the database says which one deleted it.
        deleted, _ = self.get_queryset().filter(pk=self.kwargs[self.lookup_field]).delete()
        if not deleted:
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
