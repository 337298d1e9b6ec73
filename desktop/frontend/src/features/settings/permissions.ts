// The permissions as people read them, in the order the role editor lists
// them: what the community is, then what members do in it.

import type { Permission } from "@/api/types";

export interface PermissionText {
  label: string;
  description: string;
}

// A Record over Permission: the build fails when the schema gains one that has no text here.
export const permissionText: Record<Permission, PermissionText> = {
  administrator: { label: "Administrator", description: "Every permission, and every channel. Grant it with care." },
  "manage-community": { label: "Manage community", description: "Rename the community and change its icon." },
  "manage-channels": { label: "Manage channels", description: "Create, edit, reorder and delete channels." },
  "manage-roles": { label: "Manage roles", description: "Create and edit roles below their own, and give them to members." },
  kick: { label: "Kick members", description: "Remove members; they can come back with an invite." },
  ban: { label: "Ban members", description: "Remove members for good, and lift bans." },
  "create-invites": { label: "Create invites", description: "Make invite links and codes for new members." },
  "send-messages": { label: "Send messages", description: "Write in text channels." },
  "manage-messages": { label: "Manage messages", description: "Delete others' messages." },
  "attach-files": { label: "Attach files", description: "Send files and images with messages." },
  "add-reactions": { label: "Add reactions", description: "React to messages with emoji." },
  connect: { label: "Connect", description: "Join voice channels." },
  speak: { label: "Speak", description: "Talk in voice channels." },
  video: { label: "Video", description: "Share a camera or the screen in voice channels." },
};

export const permissionGroups: { title: string; permissions: Permission[] }[] = [
  { title: "Community", permissions: ["administrator", "manage-community", "manage-channels", "manage-roles", "create-invites"] },
  { title: "Members", permissions: ["kick", "ban"] },
  { title: "Text", permissions: ["send-messages", "manage-messages", "attach-files", "add-reactions"] },
  { title: "Voice", permissions: ["connect", "speak", "video"] },
];

/** Every permission, in the editor's order. */
export const allPermissions: Permission[] = permissionGroups.flatMap((g) => g.permissions);
