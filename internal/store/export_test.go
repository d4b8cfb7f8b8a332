package store

// SetAnalyzeThreshold lets a test make a small import count as a large one; it returns the restore function.
func SetAnalyzeThreshold(n int) (restore func()) {
	old := analyzeThreshold
	analyzeThreshold = n
	return func() { analyzeThreshold = old }
}
