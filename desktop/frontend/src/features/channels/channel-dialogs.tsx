// Creating a channel, and editing one (name, topic; delete behind a
// confirmation). Text channel names are normalized as typed, Discord's way.

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Hash, Volume2 } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Channel, Community } from "@/api/types";
import { useSession } from "@/app/session";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { FieldLimitNote, useFieldLimit } from "@/components/limit-counter";
import { Button, buttonVariants } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { errorText } from "@/lib/errors";
import { cn } from "@/lib/utils";
import { normalizeChannelName } from "./names";

export function CreateChannelDialog({ community, open, onOpenChange, onCreated }: {
  community: Community;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreated: (id: string) => void;
}) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const [name, setName] = useState("");
  const [type, setType] = useState<"text" | "voice">("text");
  const normalized = normalizeChannelName(name, type);
  const nameLimit = useFieldLimit(normalized, "name");
  const create = useMutation({
    mutationFn: () => data(api.POST("/communities/{id}/channels", { params: { path: { id: community.id } }, body: { name: normalized, type } })),
    onSuccess: (c) => {
      invalidate.communities();
      setName("");
      onOpenChange(false);
      if (c.type === "text") onCreated(c.id);
    },
  });
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <form
          className="grid gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (normalized && !nameLimit.refusal) create.mutate();
          }}
        >
          <DialogHeader>
            <DialogTitle>Create a channel</DialogTitle>
            <DialogDescription>in {community.name}</DialogDescription>
          </DialogHeader>
          <div role="radiogroup" aria-label="Channel type" className="grid gap-2">
            {(["text", "voice"] as const).map((t) => (
              <button
                key={t}
                type="button"
                role="radio"
                aria-checked={type === t}
                data-testid={`channel-type-${t}`}
                onClick={() => setType(t)}
                className={cn(
                  "flex items-center gap-3 rounded-md border p-3 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                  type === t ? "border-primary ring-1 ring-primary" : "hover:bg-accent/60",
                )}
              >
                {t === "text" ? <Hash aria-hidden className="h-5 w-5" /> : <Volume2 aria-hidden className="h-5 w-5" />}
                <span>
                  <span className="block font-medium">{t === "text" ? "Text" : "Voice"}</span>
                  <span className="block text-xs text-muted-foreground">{t === "text" ? "Messages, links, emoji and replies" : "Talk together with voice and video"}</span>
                </span>
              </button>
            ))}
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="channel-name-field">Channel name</Label>
            <Input
              id="channel-name-field"
              data-testid="channel-name"
              autoFocus
              placeholder="new-channel"
              aria-invalid={!!nameLimit.refusal}
              aria-describedby="channel-name-limit"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
            <FieldLimitNote limit={nameLimit} id="channel-name-limit" />
            {type === "text" && name && normalized !== name && (
              <p data-testid="channel-name-preview" className="text-xs text-muted-foreground">
                Will be created as <span className="font-medium text-foreground">#{normalized || "…"}</span>
              </p>
            )}
          </div>
          {create.isError && <p role="alert" className="text-sm text-destructive">{errorText(create.error)}</p>}
          <DialogFooter>
            <Button type="button" variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button data-testid="channel-create" disabled={!normalized || !!nameLimit.refusal || create.isPending}>
              Create channel
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function EditChannelDialog({ channel, onOpenChange }: { channel: Channel; onOpenChange: (open: boolean) => void }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic);
  const [confirming, setConfirming] = useState(false);
  const normalized = normalizeChannelName(name, channel.type);
  const nameLimit = useFieldLimit(normalized, "name");
  const topicLimit = useFieldLimit(topic, "topic");
  const refused = !!(nameLimit.refusal || topicLimit.refusal);
  const path = { params: { path: { id: channel.id } } };
  const save = useMutation({
    mutationFn: () => data(api.PATCH("/channels/{id}", { ...path, body: { name: normalized, topic } })),
    onSuccess: () => {
      invalidate.communities();
      toast.success("Channel saved");
      onOpenChange(false);
    },
  });
  const remove = useMutation({
    mutationFn: () => data(api.DELETE("/channels/{id}", path)),
    onSuccess: () => {
      invalidate.communities();
      toast.success(`#${channel.name} deleted`);
      onOpenChange(false);
    },
  });
  return (
    <>
      <Dialog open onOpenChange={onOpenChange}>
        <DialogContent>
          <form
            className="grid gap-4"
            onSubmit={(e) => {
              e.preventDefault();
              if (normalized && !refused) save.mutate();
            }}
          >
            <DialogHeader>
              <DialogTitle>Edit #{channel.name}</DialogTitle>
              <DialogDescription>Only members who can manage channels see this.</DialogDescription>
            </DialogHeader>
            <div className="grid gap-1.5">
              <Label htmlFor="channel-edit-name-field">Name</Label>
              <Input
                id="channel-edit-name-field"
                data-testid="channel-edit-name"
                aria-invalid={!!nameLimit.refusal}
                aria-describedby="channel-edit-name-limit"
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
              <FieldLimitNote limit={nameLimit} id="channel-edit-name-limit" />
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="channel-edit-topic-field">Topic</Label>
              <Textarea
                id="channel-edit-topic-field"
                data-testid="channel-edit-topic"
                rows={3}
                aria-invalid={!!topicLimit.refusal}
                aria-describedby="channel-edit-topic-limit"
                placeholder="What this channel is about (Markdown works)"
                value={topic}
                onChange={(e) => setTopic(e.target.value)}
              />
              <FieldLimitNote limit={topicLimit} id="channel-edit-topic-limit" />
            </div>
            {(save.isError || remove.isError) && <p role="alert" className="text-sm text-destructive">{errorText(save.error ?? remove.error)}</p>}
            <DialogFooter className="sm:justify-between">
              <Button type="button" variant="ghost" className="text-destructive" data-testid="channel-delete" onClick={() => setConfirming(true)}>
                Delete channel
              </Button>
              <div className="flex gap-2">
                <Button type="button" variant="ghost" onClick={() => onOpenChange(false)}>
                  Cancel
                </Button>
                <Button data-testid="channel-save" disabled={!normalized || refused || save.isPending}>
                  Save
                </Button>
              </div>
            </DialogFooter>
          </form>
        </DialogContent>
      </Dialog>
      <AlertDialog open={confirming} onOpenChange={setConfirming}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>Delete #{channel.name}?</AlertDialogTitle>
            <AlertDialogDescription>Its messages disappear for every member. This cannot be undone.</AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <AlertDialogAction data-testid="channel-delete-confirm" className={buttonVariants({ variant: "destructive" })} onClick={() => remove.mutate()}>
              Delete channel
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </>
  );
}
