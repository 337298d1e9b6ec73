// Editing a message in place: its text with mentions as "@Name", Enter
// saves, Esc cancels.

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import type { ID, Key, Message } from "@/api/types";
import { useSession } from "@/app/session";
import { errorText } from "@/lib/errors";
import type { Mentionable, MentionableRole } from "@/lib/mentions";
import { draftBody, draftOf } from "./drafts";
import { MentionInput } from "./mention-input";
import { LimitCounter } from "@/components/limit-counter";
import { useTextLimit } from "./text-limit";

export function EditBox({ message, members, roles, nameOf, roleNameOf, onDone }: {
  message: Message;
  members: readonly Mentionable[];
  roles?: readonly MentionableRole[];
  nameOf: (u: Key) => string | undefined;
  roleNameOf?: (role: ID) => string | undefined;
  onDone: () => void;
}) {
  const { api } = useSession();
  const [draft, setDraft] = useState(() => draftOf(message.text, nameOf, roleNameOf));
  const save = useMutation({
    mutationFn: () => data(api.PATCH("/messages/{id}", { params: { path: { id: message.id } }, body: draftBody(draft) })),
    onSuccess: onDone,
  });
  const limit = useTextLimit(draft);
  const submit = () => {
    const body = draftBody(draft);
    if (limit.refusal) return;
    if (body.text && body.text !== message.text) save.mutate();
    else onDone();
  };
  return (
    // Right-clicking the box gets the browser's menu (paste…), not the message's.
    <div onContextMenu={(e) => e.stopPropagation()}>
      <div className="flex items-end gap-2 rounded-md bg-muted px-3 py-2 focus-within:ring-2 focus-within:ring-ring">
        <MentionInput
          data-testid="edit-input"
          aria-label="Edit message"
          autoFocus
          onFocus={(e) => e.currentTarget.setSelectionRange(e.currentTarget.value.length, e.currentTarget.value.length)}
          rows={Math.min(8, draft.text.split("\n").length)}
          draft={draft}
          onDraft={setDraft}
          members={members}
          roles={roles}
          offerEveryone
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation(); // cancels the edit, does not mark the channel read
              onDone();
            } else if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <LimitCounter limit={limit} />
      </div>
      <p className="mt-1 text-xs text-muted-foreground">
        Esc to <button type="button" className="text-primary hover:underline focus-visible:underline focus-visible:outline-none" onClick={onDone}>cancel</button>
        {" · "}Enter to <button type="button" className="text-primary hover:underline focus-visible:underline focus-visible:outline-none" onClick={submit}>save</button>
        {limit.refusal && <span data-testid="save-refused" className="text-destructive"> · {limit.refusal}</span>}
        {save.isError && !limit.refusal && <span role="alert" className="text-destructive"> · Not saved: {errorText(save.error)}</span>}
      </p>
    </div>
  );
}
