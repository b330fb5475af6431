"""Websocket /ws/worklist/: pushes `study.updated` messages to radiologists and managers."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.models import Role
from accounts.permissions import user_has_role
from accounts.sockets import user_group
from worklist.events import WORKLIST_GROUP

# Close codes in the application range (4000-4999) so the browser can tell why.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class WorklistConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not user_has_role(user, Role.RADIOLOGIST, Role.MANAGER):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(WORKLIST_GROUP, self.channel_name)
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        self.user_id = user.pk
        await self.accept()
        # Tells the client to re-read the worklist over REST: it may have missed messages.
        await self.send_json({"type": "hello", "user": user.username})

    async def disconnect(self, code):
        if getattr(self, "user_id", None) is not None:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        await self.channel_layer.group_discard(WORKLIST_GROUP, self.channel_name)

    async def session_end(self, event):
        # Logged out, deactivated or given another role (accounts.sockets): nothing more is sent.
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def study_updated(self, event):
        await self.send_json({"type": "study.updated", "study": event["study"]})

    async def alert_raised(self, event):
        await self.send_json({"type": "alert.raised", "alert": event["alert"]})

    async def critical_acknowledged(self, event):
        # A referring clinician acknowledged a critical result (clinician app): the department sees it.
        await self.send_json({"type": "critical.acknowledged", "critical": event["critical"]})

    async def critical_escalated(self, event):
        await self.send_json({"type": "critical.escalated", "critical": event["critical"]})
