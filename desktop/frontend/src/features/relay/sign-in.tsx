// Logging in to the relay's account, or registering one.

import { useId, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { FieldMessage, firstError } from "./field-message";
import { useRelayChanged } from "./use-relay";

type Mode = "login" | "register";

export function SignIn() {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const changed = useRelayChanged();
  const id = useId();
  const [mode, setMode] = useState<Mode>("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const submit = useMutation({
    mutationFn: () => {
      const body = { email: email.trim(), password };
      return data(mode === "login" ? api.POST("/relay/login", { body }) : api.POST("/relay/register", { body }));
    },
    onSuccess: (r) => {
      changed(r);
      // Logging in may make this node the account's user: everything shown may change.
      if (mode === "login") invalidate.all();
    },
  });
  const mismatch = mode === "register" && confirm !== "" && confirm !== password;
  const error = mismatch ? { field: "password" as const, text: "The passwords differ." } : firstError(submit.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (email.trim() && password && !mismatch) submit.mutate();
  };
  const form = (
    <form noValidate className="grid gap-3" onSubmit={onSubmit}>
      <div className="grid gap-1.5">
        <Label htmlFor={`${id}-email`}>Email</Label>
        <Input
          id={`${id}-email`}
          data-testid="relay-email"
          type="email"
          autoComplete="email"
          value={email}
          aria-invalid={error?.field === "email"}
          onChange={(e) => setEmail(e.target.value)}
        />
        <FieldMessage error={error} field="email" />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor={`${id}-password`}>Password</Label>
        <Input
          id={`${id}-password`}
          data-testid="relay-password"
          type="password"
          autoComplete={mode === "login" ? "current-password" : "new-password"}
          value={password}
          aria-invalid={error?.field === "password"}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {mode === "register" && (
        <div className="grid gap-1.5">
          <Label htmlFor={`${id}-confirm`}>Password again</Label>
          <Input
            id={`${id}-confirm`}
            data-testid="relay-password-confirm"
            type="password"
            autoComplete="new-password"
            value={confirm}
            aria-invalid={mismatch}
            onChange={(e) => setConfirm(e.target.value)}
          />
        </div>
      )}
      <FieldMessage error={error} field="password" />
      <FieldMessage error={error} field="form" />
      <p className="text-xs text-muted-foreground">
        {mode === "login"
          ? "Logging in on a new device restores your identity from the relay's encrypted backup."
          : "At least 8 characters. The password never leaves this device; the relay keeps only an encrypted backup of your identity."}
      </p>
      <Button data-testid="relay-submit" className="justify-self-start" disabled={!email.trim() || !password || mismatch || submit.isPending}>
        {submit.isPending ? "…" : mode === "login" ? "Log in" : "Register"}
      </Button>
    </form>
  );
  return (
    <Tabs
      value={mode}
      onValueChange={(m) => {
        setMode(m as Mode);
        submit.reset();
      }}
      className="grid gap-3"
    >
      <TabsList aria-label="Relay account" className="justify-self-start">
        <TabsTrigger value="login" data-testid="relay-tab-login">
          Log in
        </TabsTrigger>
        <TabsTrigger value="register" data-testid="relay-tab-register">
          Register
        </TabsTrigger>
      </TabsList>
      <TabsContent value="login" className="mt-0">
        {form}
      </TabsContent>
      <TabsContent value="register" className="mt-0">
        {form}
      </TabsContent>
    </Tabs>
  );
}
