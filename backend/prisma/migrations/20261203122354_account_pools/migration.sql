-- AlterTable
ALTER TABLE "Ask" ADD COLUMN "accountId" TEXT;

-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN "accountId" TEXT;

-- CreateIndex
CREATE INDEX "Ask_upstreamId_accountId_startedAt_idx" ON "Ask"("upstreamId", "accountId", "startedAt");
