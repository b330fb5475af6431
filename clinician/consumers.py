"""Websocket /ws/clinician/: a clinician hears that one of their studies changed; the department
hears critical-result acknowledgements and escalations. Pages re-read over HTTP on each message."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.models import Role
from accounts.permissions import user_has_role
from accounts.sockets import user_group
from clinician.events import DEPARTMENT_GROUP, clinician_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class ClinicianConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self):
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if user_has_role(user, Role.CLINICIAN):
            self.groups_joined = [clinician_group(user.pk)]
        elif user_has_role(user, Role.RADIOLOGIST, Role.MANAGER):
            self.groups_joined = [DEPARTMENT_GROUP]
        else:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        self.user_id = user.pk
        await self.accept()
        # The client re-reads its page now: it may have missed messages while away.
        await self.send_json({"type": "hello", "user": user.username})

    async def disconnect(self, code):
        if getattr(self, "user_id", None) is not None:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_end(self, event):
        # Logged out, deactivated or given another role (accounts.sockets): nothing more is sent.
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def study_changed(self, event):
        await self.send_json({"type": "study.changed", "study_id": event["study_id"]})

    async def critical_acknowledged(self, event):
        await self.send_json({"type": "critical.acknowledged", "critical": event["critical"]})

    async def critical_escalated(self, event):
        await self.send_json({"type": "critical.escalated", "critical": event["critical"]})

