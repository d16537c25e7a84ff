package ledger

// Limits of a batch submission (POST /1.0/transactions/batch): at most
// MaxTxBatch transactions in one request body of at most MaxTxBatchBytes.
// A client with more splits them into several requests. The body bound
// keeps one request's memory and read time small whatever its count: a
// batch of MaxTxBatch transactions of the usual size (~1 KiB each) is
// well under it, a batch of transactions near tx.MaxSize is not allowed
// (send those one by one).
const (
	MaxTxBatch      = 256
	MaxTxBatchBytes = 1 << 20
)
