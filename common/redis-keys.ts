// Redis key and channel names, in one place for the writer (consumer) and the readers (api).

export const keys = {
  /** Hash {b: balance, r: reserved, u: updatedAt, o: offset of the last change}. */
  account: (accountId: string) => `teller:acct:${accountId}`,
  /** JSON outcome of a decided transaction. */
  outcome: (accountId: string, id: string) => `teller:out:${accountId}/${id}`,
  /** Registry of client ids: id -> accountId, so an id reused on another account is refused. */
  txId: (id: string) => `teller:txid:${id}`,
  /** Present while Redis holds the whole read model of a partition (gone after Redis restarts empty). */
  ready: (partition: number) => `teller:ready:${partition}`,
  /** Pub/sub channel of one api replica, where owners announce outcomes it waits for. */
  replyChannel: (replicaId: string) => `teller:reply:${replicaId}`,
};
