Feature: Every completed task is invoiced exactly once
  As an accountant who must never bill a customer twice for the same work
  I want each completed task to become exactly one invoice, even when Procountor or the integration fails midway
  so that I can trust the integration without checking for duplicates or gaps

  Background:
    Given the organization uses the Procountor integration
    And today is 2025-03-14 in Finland
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |

  Scenario: Running again creates nothing new
    When the integration runs
    And the integration runs again
    Then Procountor has 1 invoice
    And Procountor has 1 partner with business ID "0112038-9"
    And Procountor has 1 product with code "ASE-1"
    And the run report says nothing was created

  Scenario Outline: Procountor stored the invoice but its answer was lost; the next run adopts it
    Given Procountor will store the next invoice but <what goes wrong>
    When the integration runs
    Then Procountor has 1 invoice
    And task 501 is not yet marked as transferred
    And task 501 waits to be looked up because NO_ANSWER
    When Procountor works normally again
    And the integration runs again
    Then Procountor has 1 invoice
    And task 501 is marked as transferred as that invoice
    And the run report says task 501 was found in Procountor and adopted

    Examples:
      | what goes wrong                      |
      | answer with an error                 |
      | drop the connection before answering |
      | not answer in time                   |

  Scenario: An invoice whose answer was lost is still found after the task is reopened in Spotilla
    Given Procountor will store the next invoice but answer with an error
    When the integration runs
    And task 501 is set back to IN_PROGRESS in Spotilla
    And Procountor works normally again
    And the integration runs again
    Then Procountor has 1 invoice
    And task 501 is marked as transferred as that invoice

  Scenario: Procountor stored a new customer but its answer was lost; the next run links it, no duplicate
    Given Procountor will store the next customer but answer with an error
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because CUSTOMER_NOT_IN_PROCOUNTOR
    When Procountor works normally again
    And the integration runs again
    Then Procountor has 1 partner with business ID "0112038-9"
    And an invoice is made for task 501

  Scenario: Procountor stored a new product but its answer was lost; the next run links it, no duplicate
    Given Procountor will store the next product but answer with an error
    When the integration runs
    Then no invoice is made for task 501
    When Procountor works normally again
    And the integration runs again
    Then Procountor has 1 product with code "ASE-1"
    And an invoice is made for task 501

  Scenario: The integration stopped after noting the transfer but before sending it
    Given the integration stops just before sending the invoice of task 501
    When the integration runs again
    Then Procountor has 1 invoice
    And task 501 is marked as transferred as that invoice
    And the run report says 1 invoice was created

  Scenario: The integration stopped right after Procountor stored the invoice
    Given the integration stops right after Procountor stored the invoice of task 501
    When the integration runs again
    Then Procountor has 1 invoice
    And task 501 is marked as transferred as that invoice
    And the run report says task 501 was found in Procountor and adopted

  Scenario: An invoice Procountor refuses keeps the reason and is not retried until the task changes
    Given task 501 has an order number of 71 characters
    When the integration runs
    Then no invoice is made for task 501
    And task 501 failed because REJECTED_BY_PROCOUNTOR
    And the reason says "at most 70"
    When the integration runs again
    Then no invoice is made for task 501
    And task 501 was tried 1 time
    And task 501 failed because REJECTED_BY_PROCOUNTOR

  Scenario: A refused invoice is sent again after the task is fixed
    Given task 501 has an order number of 71 characters
    And the integration has run
    When task 501 gets order number "PO-77" in Spotilla
    And the integration runs again
    Then the invoice of task 501 has order reference "PO-77"
    And Procountor has 1 invoice

  Scenario: A refused invoice is sent again after the customer's address is fixed
    Given Spotilla's customer register also has:
      | name      | business ID | e-invoice address | e-invoice operator | street | postal code | city |
      | Verkko Oy | 1572860-0   | 003715728600      | E204503            |        |             |      |
    And a completed task 502 for "Verkko Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And the integration has run
    And task 502 failed because REJECTED_BY_PROCOUNTOR
    When the site address of customer "Verkko Oy" is set to "Verkkotie 1, 00100 Helsinki" in Spotilla
    And the integration runs again
    Then an invoice is made for task 502

  Scenario: One bad task never stops the others
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 502 has an order number of 71 characters
    And a completed task 503 without a customer, with:
      | product | quantity |
      | ASE-1   | 1        |
    And a completed task 504 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 3        |
    When the integration runs
    Then the run ends with some items failed
    And an invoice is made for task 501
    And an invoice is made for task 504
    And task 502 failed because REJECTED_BY_PROCOUNTOR
    And task 503 is held back because NO_CUSTOMER
    And Procountor has 2 invoices

  Scenario: Procountor being unreachable for a while loses nothing and duplicates nothing
    Given Procountor is unreachable
    When the integration runs
    Then Procountor has no invoices
    When Procountor works normally again
    And the integration runs again
    Then Procountor has 1 invoice
    And task 501 is marked as transferred as that invoice
