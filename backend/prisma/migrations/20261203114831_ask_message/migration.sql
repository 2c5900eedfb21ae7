-- AlterTable
ALTER TABLE "Ask" ADD COLUMN "messageId" TEXT;

-- CreateIndex
CREATE INDEX "Ask_conversationId_outcome_idx" ON "Ask"("conversationId", "outcome");
