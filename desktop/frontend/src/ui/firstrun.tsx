// First run: the user chooses a display name; nothing else is needed on a LAN.

import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useSession } from "./context";
import { buttonClass, errorText, inputClass } from "./modal";

export function FirstRun() {
  const { client } = useSession();
  const queries = useQueryClient();
  const [name, setName] = useState("");
  const save = useMutation({
    mutationFn: () => client.updateMe({ name: name.trim() }),
    onSuccess: (me) => queries.setQueryData(["me"], me),
  });
  return (
    <main className="flex h-full items-center justify-center bg-zinc-100 dark:bg-zinc-900">
      <form
        className="w-full max-w-sm rounded-lg bg-white p-6 shadow dark:bg-zinc-800"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) save.mutate();
        }}
      >
        <h1 className="mb-1 text-xl font-semibold">Welcome to Ancore</h1>
        <p className="mb-4 text-sm text-zinc-500">Chat with no server in between. What should others call you?</p>
        <input
          data-testid="name-input"
          className={inputClass}
          autoFocus
          maxLength={100}
          placeholder="Display name"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        {save.isError && <p className="mt-2 text-sm text-red-500">{errorText(save.error)}</p>}
        <button data-testid="name-save" className={`${buttonClass} mt-4 w-full`} disabled={!name.trim() || save.isPending}>
          Continue
        </button>
      </form>
    </main>
  );
}
