// What the local user may do with a message, shared by its hover toolbar,
// its "More" menu and its context menu.

import type { Key, Message, Permission } from "@/api/types";

export type MessageAction = "reply" | "react" | "edit" | "delete" | "copy-text" | "copy-link" | "copy-id";

/** Whether the user may delete others' messages: manage-messages (administrator implies it). */
export function canManageMessages(permissions: readonly Permission[]): boolean {
  return permissions.includes("manage-messages") || permissions.includes("administrator");
}

/** The actions a message offers, in menu order: edit only one's own, delete one's own or with manage-messages. */
export function messageActions(message: Pick<Message, "author">, self: Key, permissions: readonly Permission[]): MessageAction[] {
  const own = message.author === self;
  const actions: MessageAction[] = ["reply", "react"];
  if (own) actions.push("edit");
  if (own || canManageMessages(permissions)) actions.push("delete");
  actions.push("copy-text", "copy-link", "copy-id");
  return actions;
}
